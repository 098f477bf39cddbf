#include "core/store/compression.h"

#include "core/base/error.h"

namespace headscope {

Compression parse_compression(const std::string& text, const std::string& option) {
  if (text == "none") return Compression::none();
  if (text == "deflate") return Compression{};
  const std::string prefix = "deflate:";
  if (text.size() == prefix.size() + 1 && text.compare(0, prefix.size(), prefix) == 0 &&
      text.back() >= '1' && text.back() <= '9') {
    return Compression::deflate(text.back() - '0');
  }
  throw InvalidInput(option + " \"" + text +
                     "\": expected none, deflate or deflate:LEVEL with LEVEL 1..9");
}

std::string compression_name(const Compression& compression) {
  if (compression.kind == Compression::Kind::kNone) return "none";
  return "deflate:" + std::to_string(compression.level);
}

}  // namespace headscope
