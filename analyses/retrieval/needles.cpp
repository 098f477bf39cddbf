#include "analyses/retrieval/needles.h"

#include <nlohmann/json.hpp>

#include "core/base/error.h"
#include "core/base/json_file.h"
#include "core/base/text_file.h"

namespace headscope {
namespace {

Needle make_needle(std::string needle, std::string question, std::string answer, int index) {
  return {std::move(needle), std::move(question), std::move(answer),
          "built-in needle " + std::to_string(index)};
}

std::string string_field(const nlohmann::json& record, const char* name, const char* alias,
                         const std::string& where) {
  const char* found = record.contains(name)                          ? name
                      : (alias != nullptr && record.contains(alias)) ? alias
                                                                     : nullptr;
  if (found == nullptr) throw InvalidInput(where + ": missing field '" + name + "'");
  const nlohmann::json& value = record.at(found);
  if (!value.is_string()) {
    throw InvalidInput(where + ": field '" + found + "' must be a string, got " +
                       value.type_name());
  }
  return value.get<std::string>();
}

}  // namespace

const std::vector<Needle>& builtin_needles() {
  static const std::vector<Needle> list = {
      make_needle("the special number of maria is four seven one nine .",
                  "what is the special number of maria ?", "four seven one nine", 0),
      make_needle("do not forget that oscar chose two eight zero six five as the special number .",
                  "what is the special number of oscar ?", "two eight zero six five", 1),
      make_needle("here is a fact to remember : the special number that belongs to julia is "
                  "nine three three five one two .",
                  "what is the special number of julia ?", "nine three three five one two", 2),
      make_needle("in the notes there is an entry : walter , special number six zero eight one .",
                  "what is the special number of walter ?", "six zero eight one", 3),
  };
  return list;
}

void check_needle(const Needle& needle) {
  if (needle.needle.find_first_not_of(" \t\r\n") == std::string::npos) {
    throw InvalidInput(needle.source + ": the needle is empty");
  }
  if (needle.answer.find_first_not_of(" \t\r\n") == std::string::npos) {
    throw InvalidInput(needle.source + ": the answer is empty");
  }
  if (needle.needle.find(needle.answer) == std::string::npos) {
    throw InvalidInput(needle.source + ": the answer '" + needle.answer +
                       "' does not occur in the needle '" + needle.needle + "'");
  }
}

std::vector<Needle> load_needles_jsonl(const std::string& path) {
  std::vector<Needle> needles;
  // Other fields (ids, notes) are left alone; real_needle is answer's other name.
  read_json_lines(
      path, "--needles", {"needle", "question", "answer"},
      [&needles](const nlohmann::json& record, const std::string& where) {
        Needle needle{string_field(record, "needle", nullptr, where),
                      string_field(record, "question", nullptr, where),
                      string_field(record, "answer", "real_needle", where), where};
        check_needle(needle);
        needles.push_back(std::move(needle));
      },
      false);
  return needles;
}

std::string load_haystack_text(const std::string& path) {
  std::string haystack = read_text_file(path, "--haystack");
  if (haystack.find_first_not_of(" \t\r\n") == std::string::npos) {
    throw InvalidInput("--haystack: " + path + " holds no text");
  }
  return haystack;
}

}  // namespace headscope
