#include "core/tokenizer/tokenizer_state.h"

#include "core/base/error.h"
#include "core/tokenizer/byte_level.h"

namespace headscope {
namespace {

void set_entry(TokenizerState& state, const std::string& piece, std::string text, int32_t id) {
  HS_ASSERT(id >= 0);
  const auto index = static_cast<size_t>(id);
  if (index >= state.pieces.size()) {
    state.pieces.resize(index + 1);
    state.texts.resize(index + 1);
    state.known.resize(index + 1, false);
  }
  state.pieces[index] = piece;
  state.texts[index] = std::move(text);
  state.known[index] = true;
  state.piece_ids[piece] = id;
}

}  // namespace

void TokenizerState::add_piece(const std::string& piece, int32_t id) {
  std::optional<std::string> bytes = byte_level_bytes(piece);
  set_entry(*this, piece, bytes ? std::move(*bytes) : piece, id);
}

void TokenizerState::add_token(const std::string& content, int32_t id) {
  set_entry(*this, content, content, id);
}

}  // namespace headscope
