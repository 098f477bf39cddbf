#include "core/tokenizer/tokenizer.h"

#include <filesystem>

#include "core/base/error.h"
#include "core/tokenizer/tokenizer_state.h"
#include "core/tokenizer/utf8.h"

namespace headscope {

Tokenizer::Tokenizer(std::shared_ptr<const TokenizerState> state) : state_(std::move(state)) {
  HS_ASSERT(state_ && state_->bpe);
}

Tokenizer Tokenizer::load(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code error;
  const fs::file_status status = fs::status(path, error);
  if (fs::is_regular_file(status)) return from_tokenizer_json(path);
  if (!fs::is_directory(status)) {
    throw IoError(path + ": no such tokenizer file or directory");
  }
  const fs::path dir(path);
  if (fs::is_regular_file(dir / "tokenizer.json", error)) {
    return from_tokenizer_json((dir / "tokenizer.json").string());
  }
  if (fs::is_regular_file(dir / "encoder.json", error) &&
      fs::is_regular_file(dir / "vocab.bpe", error)) {
    return from_gpt2_files((dir / "encoder.json").string(), (dir / "vocab.bpe").string());
  }
  throw IoError(path + ": directory holds neither tokenizer.json nor encoder.json + vocab.bpe");
}

std::vector<int32_t> Tokenizer::encode(std::string_view text) const {
  if (const auto offset = utf8_invalid_offset(text)) {
    throw InvalidInput("Tokenizer::encode: text is not valid UTF-8 at byte offset " +
                       std::to_string(*offset));
  }
  const TokenizerState& state = *state_;
  std::vector<int32_t> ids;
  const auto encode_word = [&](std::string_view word) { state.bpe->encode_word(word, ids); };
  for (const auto& raw : state.raw_added.split(text)) {
    if (raw.token_id >= 0) {
      ids.push_back(raw.token_id);
      continue;
    }
    const std::string normalized = state.nfc ? utf8_nfc(raw.text) : std::string();
    const std::string_view plain = state.nfc ? std::string_view(normalized) : raw.text;
    for (const auto& segment : state.normalized_added.split(plain)) {
      if (segment.token_id >= 0) {
        ids.push_back(segment.token_id);
      } else {
        state.pre_tokenizer.split(segment.text, encode_word);
      }
    }
  }
  return ids;
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids) const {
  std::string bytes;
  for (int32_t id : ids) {
    check_id(id, "Tokenizer::decode");
    bytes += state_->texts[static_cast<size_t>(id)];
  }
  return utf8_repair(bytes);
}

std::string Tokenizer::token_piece(int32_t id) const {
  check_id(id, "Tokenizer::token_piece");
  return state_->pieces[static_cast<size_t>(id)];
}

std::string Tokenizer::token_text(int32_t id) const {
  check_id(id, "Tokenizer::token_text");
  return state_->texts[static_cast<size_t>(id)];
}

std::optional<int32_t> Tokenizer::token_to_id(std::string_view piece) const {
  const auto it = state_->piece_ids.find(std::string(piece));
  if (it == state_->piece_ids.end()) return std::nullopt;
  return it->second;
}

int32_t Tokenizer::vocab_size() const {
  return static_cast<int32_t>(state_->pieces.size());
}

void Tokenizer::check_id(int32_t id, const char* caller) const {
  if (id < 0 || id >= vocab_size() || !state_->known[static_cast<size_t>(id)]) {
    throw InvalidInput(std::string(caller) + ": token id " + std::to_string(id) +
                       " is not in the vocabulary (vocab size " + std::to_string(vocab_size()) +
                       ")");
  }
}

}  // namespace headscope
