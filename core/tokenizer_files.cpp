#include "core/tokenizer_files.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"

namespace headscope {

std::string read_text_file(const std::string& path) {
  std::error_code error;
  // An ifstream opens a directory fine and then reads nothing; say what is wrong instead.
  if (std::filesystem::is_directory(path, error)) throw IoError(path + ": is a directory");
  std::ifstream file(path, std::ios::binary);
  if (!file) throw IoError(path + ": cannot open: " + std::strerror(errno));
  std::ostringstream contents;
  contents << file.rdbuf();
  if (file.bad()) throw IoError(path + ": read failed: " + std::strerror(errno));
  return contents.str();
}

nlohmann::json read_json_file(const std::string& path) {
  const std::string text = read_text_file(path);
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& error) {
    throw InvalidInput(path + ": malformed JSON: " + error.what());
  }
}

}  // namespace headscope
