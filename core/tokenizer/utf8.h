// UTF-8 helpers for the tokenizers: validation, lossy repair, NFC and white space.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace headscope {

// Byte offset of the first ill-formed sequence (Unicode Table 3-7: no overlongs, surrogates or
// code points above U+10FFFF); std::nullopt when the whole text is well formed.
std::optional<size_t> utf8_invalid_offset(std::string_view text);

// Replaces each maximal ill-formed subpart with U+FFFD, the policy of Rust's
// String::from_utf8_lossy that Hugging Face decoders use.
std::string utf8_repair(std::string_view bytes);

// NFC of well-formed text (utf8proc).
std::string utf8_nfc(std::string_view text);

// Byte length of the white-space character (Unicode White_Space) starting at text[pos], or 0.
size_t utf8_space_at(std::string_view text, size_t pos);

// Byte length of the white-space character ending just before text[end], or 0.
size_t utf8_space_before(std::string_view text, size_t end);

}  // namespace headscope
