#include "core/tokenizer/byte_level.h"

#include <array>

namespace headscope {
namespace {

// Printable Latin-1 bytes stand for themselves; the other 68 bytes, in increasing order, take
// the code points from U+0100 on. This is the mapping of OpenAI's bytes_to_unicode().
bool prints_as_itself(int byte) {
  return (byte >= '!' && byte <= '~') || (byte >= 0xA1 && byte <= 0xAC) || byte >= 0xAE;
}

struct Alphabet {
  std::array<std::string, 256> spelling;  // UTF-8 of each byte's code point
  std::array<int16_t, 0x144> byte_of;     // code point -> byte, -1 outside the alphabet

  Alphabet() {
    byte_of.fill(-1);
    int next_extra = 0x100;
    for (int byte = 0; byte < 256; ++byte) {
      const int cp = prints_as_itself(byte) ? byte : next_extra++;
      byte_of[cp] = static_cast<int16_t>(byte);
      // Every code point here is below U+0800, so one or two UTF-8 bytes.
      std::string& utf8 = spelling[byte];
      if (cp < 0x80) {
        utf8.push_back(static_cast<char>(cp));
      } else {
        utf8.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        utf8.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
      }
    }
  }
};

const Alphabet& alphabet() {
  static const Alphabet instance;
  return instance;
}

}  // namespace

std::string byte_level_piece(std::string_view bytes) {
  const Alphabet& table = alphabet();
  std::string piece;
  piece.reserve(bytes.size() * 2);
  for (char c : bytes) piece += table.spelling[static_cast<unsigned char>(c)];
  return piece;
}

std::optional<std::string> byte_level_bytes(std::string_view piece) {
  const Alphabet& table = alphabet();
  std::string bytes;
  bytes.reserve(piece.size());
  for (size_t pos = 0; pos < piece.size();) {
    const auto lead = static_cast<unsigned char>(piece[pos]);
    int cp = -1;
    if (lead < 0x80) {
      cp = lead;
      pos += 1;
    } else if ((lead & 0xE0) == 0xC0 && pos + 1 < piece.size()) {
      const auto trail = static_cast<unsigned char>(piece[pos + 1]);
      if ((trail & 0xC0) != 0x80) return std::nullopt;
      cp = ((lead & 0x1F) << 6) | (trail & 0x3F);
      if (cp < 0x80) return std::nullopt;  // overlong
      pos += 2;
    } else {
      return std::nullopt;  // three- and four-byte characters are never in the alphabet
    }
    if (cp >= static_cast<int>(table.byte_of.size()) || table.byte_of[cp] < 0) return std::nullopt;
    bytes.push_back(static_cast<char>(table.byte_of[cp]));
  }
  return bytes;
}

}  // namespace headscope
