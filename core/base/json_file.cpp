#include "core/base/json_file.h"

#include <algorithm>

#include "core/base/error.h"
#include "core/base/text_file.h"

namespace headscope {

nlohmann::json parse_json(const std::string& text, const std::string& label) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw InvalidInput(label + ": not valid JSON (" + e.what() + ")");
  }
}

nlohmann::json read_json_file(const std::string& path) {
  return parse_json(read_text_file(path), path);
}

namespace {

// "a, b and c".
std::string spoken_list(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    out += (i == 0 ? "" : i + 1 == names.size() ? " and " : ", ") + names[i];
  }
  return out;
}

}  // namespace

void read_json_lines(
    const std::string& path, const std::string& label, const std::vector<std::string>& fields,
    const std::function<void(const nlohmann::json& record, const std::string& where)>& read,
    bool only_fields) {
  const std::string text = read_text_file(path, label);
  std::string listed;
  for (const std::string& name : fields) listed += (listed.empty() ? "" : ", ") + name;
  bool any = false;
  size_t begin = 0;
  for (int64_t line_number = 1; begin < text.size(); ++line_number) {
    size_t end = text.find('\n', begin);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(begin, end - begin);
    begin = end + 1;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = path + ":" + std::to_string(line_number);
    nlohmann::json record;
    try {
      record = nlohmann::json::parse(line);
    } catch (const nlohmann::json::parse_error& e) {
      throw InvalidInput(where + ": not valid JSON (" + e.what() + ")");
    }
    if (!record.is_object()) {
      throw InvalidInput(where + ": expected a JSON object with " + spoken_list(fields) + ", got " +
                         record.type_name());
    }
    for (const auto& item : record.items()) {
      if (only_fields && std::find(fields.begin(), fields.end(), item.key()) == fields.end()) {
        throw InvalidInput(where + ": " + item.key() + ": unknown field; expected " + listed);
      }
    }
    read(record, where);
    any = true;
  }
  if (!any) {
    throw InvalidInput(path + ": no records; expected one JSON object per line with " +
                       spoken_list(fields));
  }
}

}  // namespace headscope
