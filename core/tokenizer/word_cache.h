// Thread-safe memo of word -> BPE ids. Natural text repeats a small set of words, so most words
// skip the merge loop; the cache stops growing once full, which bounds its memory.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace headscope {

class WordCache {
 public:
  explicit WordCache(size_t capacity) : capacity_(capacity) {}

  // Appends the cached ids of `word` to `ids`; false when the word is not cached.
  bool find(std::string_view word, std::vector<int32_t>& ids) const;
  void insert(std::string_view word, const int32_t* ids, size_t count);

 private:
  size_t capacity_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::vector<int32_t>> entries_;
};

}  // namespace headscope
