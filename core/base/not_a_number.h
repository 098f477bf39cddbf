#pragma once
#include <limits>

namespace headscope {

// The value of statistics that are undefined (no samples, zero variance).
inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

}  // namespace headscope
