// Byte-level BPE: a word's bytes start as one token each, then the adjacent pair with the lowest
// merge rank is merged (leftmost first on ties) until no pair has a merge. This is the order of
// Hugging Face's BPE model; OpenAI's encoder.py gives the same result.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/tokenizer/word_cache.h"

namespace headscope {

class BpeModel {
 public:
  // `vocab` maps byte-level pieces ("Ġthe") to ids; `merges` are piece pairs in rank order.
  // `vocab_source` and `merges_source` name the file and field for InvalidInput errors: a byte
  // without a single-character token, a merge part or merge result missing from the vocabulary.
  // With ignore_merges, a word that is itself in the vocabulary is one token, without merging.
  BpeModel(const std::unordered_map<std::string, int32_t>& vocab,
           const std::vector<std::pair<std::string, std::string>>& merges, bool ignore_merges,
           const std::string& vocab_source, const std::string& merges_source);

  // Appends the ids of one pre-tokenized word (raw bytes, not the byte-level spelling).
  void encode_word(std::string_view word, std::vector<int32_t>& ids) const;

 private:
  struct Merge {
    int32_t rank;
    int32_t merged_id;
  };

  static uint64_t pair_key(int32_t left, int32_t right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) |
           static_cast<uint32_t>(right);
  }
  void merge_word(std::string_view word, std::vector<int32_t>& ids) const;

  std::array<int32_t, 256> byte_ids_{};
  std::unordered_map<uint64_t, Merge> merges_;
  // Raw bytes of every vocabulary piece -> id; filled only with ignore_merges.
  std::unordered_map<std::string, int32_t> whole_words_;
  std::unique_ptr<WordCache> cache_;
};

}  // namespace headscope
