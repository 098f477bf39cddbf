// GPT-2's byte-level alphabet: each byte is printed as one visible code point, so that BPE pieces
// are strings without spaces or control characters ("Ġthe" is " the").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace headscope {

// The piece spelling of raw bytes ("\n" -> "Ċ", " the" -> "Ġthe").
std::string byte_level_piece(std::string_view bytes);

// The bytes a piece spells; std::nullopt when it holds a character outside the alphabet.
std::optional<std::string> byte_level_bytes(std::string_view piece);

}  // namespace headscope
