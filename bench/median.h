// Median of timings, the statistic every benchmark reports (robust to one slow repeat).
#pragma once

#include <algorithm>
#include <vector>

namespace headscope::bench {

inline double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  if (n == 0) return -1;
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

}  // namespace headscope::bench
