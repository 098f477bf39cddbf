// Sentence templates: words separated by single spaces, with slots in braces ("the {N} sat .").
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace headscope {

struct FilledTemplate {
  std::vector<std::string> words;
  // [begin, end) word positions of the first use of each slot, by slot name (without braces).
  std::map<std::string, std::pair<int64_t, int64_t>> spans;
};

// Replaces every slot with the words `fill` gives for its name; other words are kept.
FilledTemplate fill_template(
    std::string_view pattern,
    const std::function<std::vector<std::string>(const std::string& slot)>& fill);

}  // namespace headscope
