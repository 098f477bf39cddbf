// Writing a text file whole or not at all, and reading a user's text input whole (configs,
// tokenizer files, haystacks, needles, token lists, recipes, sparse configs). Every such read goes
// through here so that none of them can run forever on a device or a pipe (`--haystack /dev/zero`)
// or fill memory with a huge file.
#pragma once

#include <cstdint>
#include <string>

namespace headscope {

// The largest text file headscope reads (README.md, "Limits").
constexpr int64_t kMaxTextFileBytes = int64_t{256} << 20;

// The whole file. IoError naming `label` (the option or role, e.g. "--haystack"; may be empty)
// and the path when the path is missing, is not a regular file (a directory, a device, a FIFO),
// cannot be read, or holds more than `max_bytes`.
std::string read_text_file(const std::string& path, const std::string& label = "",
                           int64_t max_bytes = kMaxTextFileBytes);

// Writes `text` to path via a temporary file renamed on success (configs, exports); IoError
// naming the path when it cannot.
void write_text_file_atomically(const std::string& path, const std::string& text);

}  // namespace headscope
