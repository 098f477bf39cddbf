// What a Tokenizer is made of; filled by the loaders (tokenizer_json.cpp, tokenizer_gpt2.cpp).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/tokenizer/added_tokens.h"
#include "core/tokenizer/bpe_model.h"
#include "core/tokenizer/pre_tokenizer.h"

namespace headscope {

struct TokenizerState {
  bool nfc = false;
  AddedTokenMatcher raw_added;         // added tokens matched before normalisation
  AddedTokenMatcher normalized_added;  // ... and after it
  PreTokenizer pre_tokenizer;
  std::unique_ptr<BpeModel> bpe;

  // Indexed by id; ids that no token uses have known[id] == false.
  std::vector<std::string> pieces;
  std::vector<std::string> texts;
  std::vector<bool> known;
  std::unordered_map<std::string, int32_t> piece_ids;

  // Records a vocabulary piece; its text is the bytes it spells in the byte-level alphabet, or the
  // piece itself when it holds other characters (the fallback of Hugging Face's ByteLevel decoder).
  void add_piece(const std::string& piece, int32_t id);
  // Records an added token, whose text is its content; it replaces a vocabulary piece of that id.
  void add_token(const std::string& content, int32_t id);
};

}  // namespace headscope
