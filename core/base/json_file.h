// JSON inputs (configs, tokenizer files, checkpoint indexes, sparse configs), parsed one way so
// that every malformed file is reported alike.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace headscope {

// `text` parsed; InvalidInput "<label>: not valid JSON (<parser's message>)" when it is not JSON.
nlohmann::json parse_json(const std::string& text, const std::string& label);

// The file read with read_text_file (bounded, regular files only) and parsed.
nlohmann::json read_json_file(const std::string& path);

// A JSON Lines file (--dataset, --needles): one object per line, blank lines skipped, each
// handed to `read` with where = "FILE:LINE" for its own messages. `fields` names what a record
// holds, for messages; with `only_fields` a field outside them is an error. InvalidInput naming
// FILE:LINE for a line that is not valid JSON, not an object, or has an unknown field, and
// naming the file when it holds no object; IoError as read_text_file, naming `label`.
void read_json_lines(
    const std::string& path, const std::string& label, const std::vector<std::string>& fields,
    const std::function<void(const nlohmann::json& record, const std::string& where)>& read,
    bool only_fields = true);

}  // namespace headscope
