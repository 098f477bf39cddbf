// Keys and values of earlier positions, so that decoding one token costs O(T), not O(T²).
#pragma once

#include <vector>

#include <torch/types.h>

namespace headscope {

struct KVCache {
  std::vector<torch::Tensor> keys;    // per layer [B, Hkv, S, D], after rotary
  std::vector<torch::Tensor> values;  // per layer [B, Hkv, S, D]

  // Positions already cached (the offset of the next token).
  int64_t length() const { return keys.empty() || !keys[0].defined() ? 0 : keys[0].size(2); }
};

}  // namespace headscope
