// JSON inputs (configs, tokenizer files, checkpoint indexes, sparse configs), parsed one way so
// that every malformed file is reported alike.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace headscope {

// `text` parsed; InvalidInput "<label>: not valid JSON (<parser's message>)" when it is not JSON.
nlohmann::json parse_json(const std::string& text, const std::string& label);

// The file read with read_text_file (bounded, regular files only) and parsed.
nlohmann::json read_json_file(const std::string& path);

}  // namespace headscope
