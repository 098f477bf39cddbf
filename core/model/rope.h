// Rotary position embeddings (NeoX "rotate half" layout, as every supported family stores
// its weights), with partial rotation (Pythia) and linear / Llama-3 frequency scaling.
#pragma once

#include <torch/types.h>

#include "core/checkpoint/model_config.h"

namespace headscope {

class Rotary {
 public:
  Rotary(const ModelConfig& config, torch::Device device);

  // x: [B, T, heads, d_head], positions start at `offset`. Rotates the first rotary_dims of
  // each head; the rest passes through.
  torch::Tensor apply(const torch::Tensor& x, int64_t offset) const;

  // The inverse frequencies after scaling, [rotary_dims / 2], float32.
  const torch::Tensor& inv_freq() const { return inv_freq_; }

 private:
  int64_t dims_;
  torch::Tensor inv_freq_;
};

}  // namespace headscope
