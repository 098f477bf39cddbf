#include "core/tokenizer/added_tokens.h"

#include <algorithm>

#include "core/tokenizer/utf8.h"

namespace headscope {

AddedTokenMatcher::AddedTokenMatcher(std::vector<AddedToken> tokens) : tokens_(std::move(tokens)) {
  for (uint32_t idx = 0; idx < tokens_.size(); ++idx) {
    const std::string& content = tokens_[idx].content;
    if (content.empty()) continue;  // an empty token would match everywhere
    by_first_byte_[static_cast<unsigned char>(content[0])].push_back(idx);
  }
  for (auto& bucket : by_first_byte_) {
    std::stable_sort(bucket.begin(), bucket.end(), [&](uint32_t a, uint32_t b) {
      return tokens_[a].content.size() > tokens_[b].content.size();
    });
  }
}

std::vector<AddedTokenMatcher::Segment> AddedTokenMatcher::split(std::string_view text) const {
  std::vector<Segment> segments;
  size_t text_start = 0;  // start of the text run not yet emitted
  size_t pos = 0;
  while (pos < text.size()) {
    const AddedToken* found = nullptr;
    for (uint32_t idx : by_first_byte_[static_cast<unsigned char>(text[pos])]) {
      const std::string& content = tokens_[idx].content;
      if (text.compare(pos, content.size(), content) == 0) {
        found = &tokens_[idx];
        break;
      }
    }
    if (!found) {
      ++pos;
      continue;
    }
    size_t start = pos;
    size_t end = pos + found->content.size();
    if (found->lstrip) {
      while (size_t n = utf8_space_before(text, start)) {
        if (start - n < text_start) break;  // never reach into the previous token
        start -= n;
      }
    }
    if (found->rstrip) {
      while (size_t n = utf8_space_at(text, end)) end += n;
    }
    if (start > text_start) segments.push_back({text.substr(text_start, start - text_start), -1});
    segments.push_back({text.substr(start, end - start), found->id});
    text_start = end;
    pos = end;
  }
  if (text_start < text.size()) segments.push_back({text.substr(text_start), -1});
  return segments;
}

}  // namespace headscope
