// The zoo's word-level vocabulary: every word of analyses/tasks/word_lists.h is one token, and a
// matching byte-level BPE tokenizer.json lets headscope's Tokenizer (and Hugging Face's) read the
// same ids back from text.
//
//   const Vocabulary& vocab = Vocabulary::builtin();
//   std::vector<int32_t> ids = vocab.encode_words({"the", "red", "ball"});
//   std::string text = vocab.render(ids);  // " the red ball"
//   vocab.write_tokenizer_json("zoo/tokenizer.json");
//
// Ids: 0..255 are the byte symbols byte-level BPE needs, then <bos>, <eos>, <pad>, then for each
// word the pieces " w", " wo", ... " word" that its left-to-right merges build; the last is the
// word's token. Text renders each word with one leading space, so the GPT-2 pre-tokenizer cuts
// it into exactly one piece.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace headscope {

class Vocabulary {
 public:
  static const Vocabulary& builtin();

  // The token of `word`; InvalidInput naming the word when it is not in the vocabulary.
  int32_t id(std::string_view word) const;
  // The word a token stands for (without its leading space); byte and special tokens give their
  // text. InvalidInput naming the id when it is out of range.
  const std::string& word(int32_t id) const;
  int32_t size() const { return static_cast<int32_t>(texts_.size()); }

  std::vector<int32_t> encode_words(const std::vector<std::string>& words) const;
  // Text whose tokenization is `ids`: words get one leading space, special tokens none.
  std::string render(const std::vector<int32_t>& ids) const;
  // Writes the tokenizer.json described above; IoError naming `path` when it cannot be written.
  void write_tokenizer_json(const std::string& path) const;

  const std::vector<std::string>& names() const;
  const std::vector<std::string>& colors() const;
  const std::vector<std::string>& objects() const;
  const std::vector<std::string>& places() const;
  const std::vector<std::string>& digits() const;
  // Tokens of every word made of letters (no punctuation): the pool for random sequences.
  const std::vector<int32_t>& letter_words() const { return letter_words_; }

  int32_t bos() const { return kBos; }
  int32_t eos() const { return kEos; }
  int32_t pad() const { return kPad; }

 private:
  static constexpr int32_t kBos = 256;
  static constexpr int32_t kEos = 257;
  static constexpr int32_t kPad = 258;

  Vocabulary();
  // Adds `word` and the pieces that spell it, unless it is already there.
  void add_word(const std::string& word, std::unordered_map<std::string, int32_t>& pieces);

  std::vector<std::string> texts_;  // by id
  std::unordered_map<std::string, int32_t> word_ids_;
  // Merge rules in rank order, as piece ids: left + right -> the next piece of a word.
  std::vector<std::pair<int32_t, int32_t>> merges_;
  std::vector<int32_t> letter_words_;
};

}  // namespace headscope
