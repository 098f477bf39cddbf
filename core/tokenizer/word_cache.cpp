#include "core/tokenizer/word_cache.h"

namespace headscope {

bool WordCache::find(std::string_view word, std::vector<int32_t>& ids) const {
  const std::string key(word);
  const std::lock_guard<std::mutex> lock(mutex_);
  const auto it = entries_.find(key);
  if (it == entries_.end()) return false;
  ids.insert(ids.end(), it->second.begin(), it->second.end());
  return true;
}

void WordCache::insert(std::string_view word, const int32_t* ids, size_t count) {
  const std::lock_guard<std::mutex> lock(mutex_);
  if (entries_.size() >= capacity_) return;
  entries_.emplace(std::string(word), std::vector<int32_t>(ids, ids + count));
}

}  // namespace headscope
