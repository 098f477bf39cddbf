// Reading the files the tokenizer loaders take; errors name the path.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "core/text_file.h"

namespace headscope {

// The parsed file; InvalidInput naming the path and parser message when it is not JSON.
nlohmann::json read_json_file(const std::string& path);

}  // namespace headscope
