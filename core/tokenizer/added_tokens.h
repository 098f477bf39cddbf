// Tokens added on top of the BPE vocabulary (special tokens such as "<|endoftext|>" and others):
// they are cut out of the text whole before pre-tokenization, as Hugging Face tokenizers do.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace headscope {

struct AddedToken {
  std::string content;
  int32_t id = 0;
  bool lstrip = false;  // the match also takes the white space on its left
  bool rstrip = false;  // ... and on its right
};

class AddedTokenMatcher {
 public:
  // A run of text (token_id < 0) or one added token.
  struct Segment {
    std::string_view text;
    int32_t token_id;
  };

  AddedTokenMatcher() = default;
  explicit AddedTokenMatcher(std::vector<AddedToken> tokens);

  // Cuts `text` at added tokens: at the leftmost position where one matches, the longest one
  // wins, then the search resumes after it (Aho-Corasick "leftmost longest").
  std::vector<Segment> split(std::string_view text) const;

 private:
  std::vector<AddedToken> tokens_;
  // Indices into tokens_ by first byte, longest content first, so a scan tries few candidates.
  std::array<std::vector<uint32_t>, 256> by_first_byte_;
};

}  // namespace headscope
