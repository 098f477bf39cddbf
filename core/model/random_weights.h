// Weights drawn at random for a model described by its config.json alone: benchmarks and
// long-context runs at the shape of a real checkpoint (`headscope record --random-weights`)
// without its files. Every tensor the family's forward pass reads is made: linear and embedding
// weights ~ N(0, 0.02), norm weights 1, biases 0.
#pragma once

#include <cstdint>

#include <torch/types.h>

#include "core/checkpoint/model_config.h"
#include "core/model/model_weights.h"

namespace headscope {

// Drawn directly on `device` in `dtype` (an 8B model never passes through host memory); the
// same seed gives the same weights on the same device.
ModelWeights random_model_weights(const ModelConfig& config, uint64_t seed, torch::ScalarType dtype,
                                  torch::Device device);

// The compute dtype a checkpoint of this config loads in: its own, except float16, which runs
// in float32 on the CPU.
torch::ScalarType checkpoint_compute_dtype(const ModelConfig& config, torch::Device device);

}  // namespace headscope
