#include "core/tokenizer_files.h"

#include "core/error.h"

namespace headscope {

nlohmann::json read_json_file(const std::string& path) {
  const std::string text = read_text_file(path);
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& error) {
    throw InvalidInput(path + ": malformed JSON: " + error.what());
  }
}

}  // namespace headscope
