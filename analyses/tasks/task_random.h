// Random choices for the task generators. They use the raw std::mt19937_64 output instead of
// std::uniform_int_distribution, whose results differ between standard libraries: a seed must
// give the same sample on every platform.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "core/base/error.h"

namespace headscope {

// An index in [0, n); the modulo bias is below 2^-50 for the list sizes used here.
inline size_t random_index(std::mt19937_64& rng, size_t n) {
  HS_ASSERT(n > 0);
  return static_cast<size_t>(rng() % n);
}

template <typename T>
const T& random_pick(std::mt19937_64& rng, const std::vector<T>& list) {
  return list[random_index(rng, list.size())];
}

// `count` distinct indices in [0, n), in random order.
inline std::vector<size_t> random_distinct(std::mt19937_64& rng, size_t n, size_t count) {
  HS_ASSERT(count <= n);
  std::vector<size_t> all(n);
  for (size_t idx = 0; idx < n; ++idx) all[idx] = idx;
  for (size_t idx = 0; idx < count; ++idx)
    std::swap(all[idx], all[idx + random_index(rng, n - idx)]);
  all.resize(count);
  return all;
}

}  // namespace headscope
