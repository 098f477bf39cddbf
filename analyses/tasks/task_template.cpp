#include "analyses/tasks/task_template.h"

namespace headscope {

FilledTemplate fill_template(
    std::string_view pattern,
    const std::function<std::vector<std::string>(const std::string& slot)>& fill) {
  FilledTemplate result;
  size_t start = 0;
  while (start <= pattern.size()) {
    size_t end = pattern.find(' ', start);
    if (end == std::string_view::npos) end = pattern.size();
    const std::string word(pattern.substr(start, end - start));
    start = end + 1;
    if (word.empty()) continue;
    if (word.size() > 2 && word.front() == '{' && word.back() == '}') {
      const std::string slot = word.substr(1, word.size() - 2);
      const auto begin = static_cast<int64_t>(result.words.size());
      for (std::string& filled : fill(slot)) result.words.push_back(std::move(filled));
      result.spans.emplace(slot, std::make_pair(begin, static_cast<int64_t>(result.words.size())));
    } else {
      result.words.push_back(word);
    }
  }
  return result;
}

}  // namespace headscope
