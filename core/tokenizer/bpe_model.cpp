#include "core/tokenizer/bpe_model.h"

#include <algorithm>

#include "core/base/error.h"
#include "core/tokenizer/byte_level.h"

namespace headscope {
namespace {

// Words longer than this are rare (long digit runs, base64) and would only bloat the cache.
constexpr size_t kMaxCachedWordBytes = 256;
constexpr size_t kCacheCapacity = 1 << 17;

}  // namespace

BpeModel::BpeModel(const std::unordered_map<std::string, int32_t>& vocab,
                   const std::vector<std::pair<std::string, std::string>>& merges,
                   bool ignore_merges, const std::string& vocab_source,
                   const std::string& merges_source)
    : cache_(std::make_unique<WordCache>(kCacheCapacity)) {
  for (int byte = 0; byte < 256; ++byte) {
    const std::string piece = byte_level_piece(std::string(1, static_cast<char>(byte)));
    const auto it = vocab.find(piece);
    if (it == vocab.end()) {
      throw InvalidInput(vocab_source + ": no token for byte " + std::to_string(byte) + " (\"" +
                         piece + "\"), which byte-level BPE needs");
    }
    byte_ids_[byte] = it->second;
  }

  const auto id_of = [&](const std::string& piece, size_t rank, const char* role) {
    const auto it = vocab.find(piece);
    if (it == vocab.end()) {
      throw InvalidInput(merges_source + ", merge " + std::to_string(rank) + ": " + role + " \"" +
                         piece + "\" is not in the vocabulary");
    }
    return it->second;
  };
  merges_.reserve(merges.size());
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const auto& [left, right] = merges[rank];
    const Merge merge{static_cast<int32_t>(rank), id_of(left + right, rank, "merged token")};
    // A repeated pair keeps its last rank, as both reference implementations do.
    merges_.insert_or_assign(
        pair_key(id_of(left, rank, "left part"), id_of(right, rank, "right part")), merge);
  }

  if (ignore_merges) {
    for (const auto& [piece, id] : vocab) {
      if (auto bytes = byte_level_bytes(piece)) whole_words_.emplace(std::move(*bytes), id);
    }
  }
}

void BpeModel::encode_word(std::string_view word, std::vector<int32_t>& ids) const {
  if (word.size() == 1) {
    ids.push_back(byte_ids_[static_cast<unsigned char>(word[0])]);
    return;
  }
  if (!whole_words_.empty()) {
    const auto it = whole_words_.find(std::string(word));
    if (it != whole_words_.end()) {
      ids.push_back(it->second);
      return;
    }
  }
  const bool cacheable = word.size() <= kMaxCachedWordBytes;
  if (cacheable && cache_->find(word, ids)) return;
  const size_t first = ids.size();
  merge_word(word, ids);
  if (cacheable) cache_->insert(word, ids.data() + first, ids.size() - first);
}

void BpeModel::merge_word(std::string_view word, std::vector<int32_t>& ids) const {
  // Symbols form a linked list over the word's bytes; a merge folds a symbol into its left
  // neighbour, so positions stay stable and stale heap entries are detected by their ids.
  struct Symbol {
    int32_t id;
    int32_t prev;
    int32_t next;
  };
  struct Candidate {
    int32_t rank;
    int32_t left;  // symbol position; the right one is symbols[left].next when still valid
    int32_t right;
    int32_t left_id;
    int32_t right_id;
    int32_t merged_id;
  };
  // std heap functions build a max-heap, so "greater" puts the lowest rank, then leftmost, on top.
  const auto later = [](const Candidate& a, const Candidate& b) {
    return a.rank != b.rank ? a.rank > b.rank : a.left > b.left;
  };

  const auto size = static_cast<int32_t>(word.size());
  std::vector<Symbol> symbols(word.size());
  for (int32_t pos = 0; pos < size; ++pos) {
    symbols[pos] = {byte_ids_[static_cast<unsigned char>(word[pos])], pos - 1,
                    pos + 1 < size ? pos + 1 : -1};
  }
  std::vector<Candidate> heap;
  const auto consider = [&](int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    const auto it = merges_.find(pair_key(symbols[left].id, symbols[right].id));
    if (it == merges_.end()) return;
    heap.push_back(
        {it->second.rank, left, right, symbols[left].id, symbols[right].id, it->second.merged_id});
    std::push_heap(heap.begin(), heap.end(), later);
  };
  for (int32_t pos = 0; pos + 1 < size; ++pos) consider(pos, pos + 1);

  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), later);
    const Candidate top = heap.back();
    heap.pop_back();
    Symbol& left = symbols[top.left];
    if (left.id != top.left_id || left.next != top.right || symbols[top.right].id != top.right_id) {
      continue;  // one side was merged since this candidate was pushed
    }
    Symbol& right = symbols[top.right];
    left.id = top.merged_id;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = top.left;
    right.id = -1;
    consider(left.prev, top.left);
    consider(top.left, left.next);
  }
  for (int32_t pos = 0; pos >= 0; pos = symbols[pos].next) ids.push_back(symbols[pos].id);
}

}  // namespace headscope
