// Reading the files the tokenizer loaders take; errors name the path.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace headscope {

// The whole file; IoError naming the path and the reason when it cannot be read.
std::string read_text_file(const std::string& path);

// The parsed file; InvalidInput naming the path and parser message when it is not JSON.
nlohmann::json read_json_file(const std::string& path);

}  // namespace headscope
