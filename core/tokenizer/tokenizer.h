// Byte-level BPE tokenizers (GPT-2, Qwen, Llama 3 style), loaded from a Hugging Face
// tokenizer.json or from GPT-2's encoder.json + vocab.bpe. Encoding matches Hugging Face
// tokenizers with add_special_tokens=False.
//
//   Tokenizer tok = Tokenizer::load("models/qwen3");
//   std::vector<int32_t> ids = tok.encode("Hello world");
//   std::string text = tok.decode(ids);
//
// A Tokenizer is immutable and cheap to copy (copies share the tables); encode and decode may be
// called from several threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace headscope {

struct TokenizerState;

class Tokenizer {
 public:
  // Supported: normalizer null, NFC or a Sequence of those; pre_tokenizer ByteLevel, Split
  // (pattern Regex or String, behavior Isolated) or a Sequence ending with ByteLevel; model BPE
  // (merges as "a b" strings or [a, b] pairs, ignore_merges; no byte_fallback, dropout or affixes);
  // decoder ByteLevel; added_tokens with lstrip/rstrip/normalized (not single_word). The
  // post_processor is ignored because encode adds no special tokens.
  // Throws IoError if the file cannot be read, InvalidInput naming the file and field otherwise.
  static Tokenizer from_tokenizer_json(const std::string& path);

  // OpenAI's GPT-2 files: encoder.json (piece -> id) and vocab.bpe ("#version" line, then one
  // merge per line in rank order). There are no added tokens: "<|endoftext|>" is plain text.
  static Tokenizer from_gpt2_files(const std::string& encoder_json, const std::string& vocab_bpe);

  // `path` is a tokenizer.json file, a directory holding tokenizer.json, or a directory holding
  // encoder.json and vocab.bpe. IoError naming the path otherwise.
  static Tokenizer load(const std::string& path);

  // Token ids of `text`, without BOS/EOS. Added tokens written literally in the text become
  // their ids. Throws InvalidInput when `text` is not well-formed UTF-8 (naming the byte offset):
  // the Hugging Face and OpenAI encoders only take Unicode strings, so there is no reference
  // behaviour to match, and a silent guess would hide a decoding bug in the caller.
  std::vector<int32_t> encode(std::string_view text) const;

  // The text of `ids`: their bytes joined, then every ill-formed UTF-8 subpart (for example a
  // character cut in half by a truncated id list) replaced with U+FFFD, as Hugging Face does.
  // Throws InvalidInput naming an id outside the vocabulary and the vocabulary size.
  std::string decode(const std::vector<int32_t>& ids) const;

  // The vocabulary spelling of a token ("Ġthe"; an added token's content).
  std::string token_piece(int32_t id) const;
  // The raw bytes the token stands for (" the"); may be part of a UTF-8 character.
  std::string token_text(int32_t id) const;
  // The id of a vocabulary spelling or added token content.
  std::optional<int32_t> token_to_id(std::string_view piece) const;
  // Highest id + 1, added tokens included.
  int32_t vocab_size() const;

 private:
  explicit Tokenizer(std::shared_ptr<const TokenizerState> state);
  // Throws InvalidInput when `id` is not a token of this vocabulary; `caller` prefixes the message.
  void check_id(int32_t id, const char* caller) const;

  std::shared_ptr<const TokenizerState> state_;
};

}  // namespace headscope
