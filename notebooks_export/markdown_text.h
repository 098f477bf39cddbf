// Small text pieces the README and the notebook's markdown cells share.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace headscope {

// {4, 20, 20} -> "[4, 20, 20]"
std::string shape_text(const std::vector<int64_t>& shape);

// Ascending layers {0, 1, 2, 5} -> "0–2, 5"
std::string layer_ranges(const std::vector<int64_t>& layers);

// A double-quoted literal with newlines and quotes escaped, so that any prompt stays on one
// line; cut after max_bytes, which it says.
std::string quoted(const std::string& text, size_t max_bytes);

}  // namespace headscope
