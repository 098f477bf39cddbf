#include "analyses/retrieval/rouge.h"

#include <algorithm>
#include <map>

namespace headscope {

std::vector<std::string> rouge_words(const std::string& text) {
  std::vector<std::string> words;
  std::string word;
  for (const char raw : text) {
    char c = raw;
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
      word += c;
    } else if (!word.empty()) {
      words.push_back(std::move(word));
      word.clear();
    }
  }
  if (!word.empty()) words.push_back(std::move(word));
  return words;
}

double rouge1_recall(const std::string& reference, const std::string& candidate) {
  const std::vector<std::string> wanted = rouge_words(reference);
  if (wanted.empty()) return 0.0;
  std::map<std::string, int64_t> available;
  for (const std::string& word : rouge_words(candidate)) ++available[word];
  int64_t found = 0;
  for (const std::string& word : wanted) {
    auto it = available.find(word);
    if (it != available.end() && it->second > 0) {
      --it->second;
      ++found;
    }
  }
  return static_cast<double>(found) / static_cast<double>(wanted.size());
}

}  // namespace headscope
