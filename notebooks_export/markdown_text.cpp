#include "notebooks_export/markdown_text.h"

#include <nlohmann/json.hpp>

namespace headscope {

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string text = "[";
  for (size_t axis = 0; axis < shape.size(); ++axis) {
    text += (axis ? ", " : "") + std::to_string(shape[axis]);
  }
  return text + "]";
}

std::string layer_ranges(const std::vector<int64_t>& layers) {
  std::string text;
  for (size_t begin = 0, end; begin < layers.size(); begin = end) {
    for (end = begin + 1; end < layers.size() && layers[end] == layers[end - 1] + 1;) ++end;
    text += (text.empty() ? "" : ", ") + std::to_string(layers[begin]);
    if (end - begin > 1) text += "–" + std::to_string(layers[end - 1]);
  }
  return text;
}

std::string quoted(const std::string& text, size_t max_bytes) {
  const bool cut = text.size() > max_bytes;
  // A cut can split a UTF-8 sequence; replace turns the stray bytes into U+FFFD.
  const std::string literal = nlohmann::json(cut ? text.substr(0, max_bytes) : text)
                                  .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return cut ? literal + " (cut at " + std::to_string(max_bytes) + " bytes)" : literal;
}

}  // namespace headscope
