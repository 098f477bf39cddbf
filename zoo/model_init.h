// Fresh Llama-shaped weights for training from scratch, and the list of tensors an optimizer
// updates. The model itself is Transformer::from_weights over these tensors.
#pragma once

#include <cstdint>
#include <vector>

#include <torch/types.h>

#include "core/checkpoint/model_config.h"
#include "core/model/model_weights.h"

namespace headscope {

// Float32 on `device`; linear and embedding weights ~ N(0, 0.02), norm weights 1. Every tensor
// requires grad. The same seed gives the same weights on every device.
ModelWeights init_llama_weights(const ModelConfig& config, uint64_t seed, torch::Device device);

// Each trainable tensor once (a tied unembedding is the embedding itself).
std::vector<torch::Tensor> parameters(const ModelWeights& weights);

}  // namespace headscope
