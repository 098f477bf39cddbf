#include "core/model/random_weights.h"

#include <cstdio>

#include <torch/torch.h>

#include "core/model/memory_estimate.h"

namespace headscope {
namespace {

constexpr double kInitStd = 0.02;

}  // namespace

torch::ScalarType checkpoint_compute_dtype(const ModelConfig& config, torch::Device device) {
  switch (config.dtype) {
    case DType::kBF16:
      return torch::kBFloat16;
    case DType::kF16:
      return device.is_cpu() ? torch::kFloat32 : torch::kFloat16;
    default:
      return torch::kFloat32;
  }
}

ModelWeights random_model_weights(const ModelConfig& c, uint64_t seed, torch::ScalarType dtype,
                                  torch::Device device) {
  // Drawn tensors are allocated, not mapped: a config of absurd size must not reach the
  // allocator (or the OOM killer).
  char parameters[32];
  std::snprintf(parameters, sizeof parameters, "%.3g", parameter_count(c));
  check_memory_fits(weight_bytes(c, static_cast<int64_t>(torch::elementSize(dtype))), device,
                    "random weights for " + std::to_string(c.n_layers) + " layers of d_model " +
                        std::to_string(c.d_model) + " (" + parameters + " parameters of " +
                        std::to_string(torch::elementSize(dtype)) + " bytes)");
  torch::NoGradGuard no_grad;
  torch::manual_seed(seed);
  const auto options = torch::TensorOptions().dtype(dtype).device(device);
  auto normal = [&](std::vector<int64_t> shape) {
    return torch::empty(shape, options).normal_(0.0, kInitStd);
  };
  auto ones = [&](int64_t n) { return torch::ones({n}, options); };
  auto zeros_if = [&](bool wanted, int64_t n) {
    return wanted ? torch::zeros({n}, options) : torch::Tensor();
  };
  const bool layer_norm = c.norm == NormKind::kLayerNorm;
  const int64_t d = c.d_model, q_dim = c.n_heads * c.d_head, kv_dim = c.n_kv_heads * c.d_head;

  ModelWeights w;
  w.embed = normal({c.vocab_size, d});
  if (c.learned_positions) w.pos_embed = normal({c.max_positions, d});
  for (int64_t i = 0; i < c.n_layers; ++i) {
    LayerWeights l;
    l.ln1_w = ones(d);
    l.ln1_b = zeros_if(layer_norm, d);
    l.ln2_w = ones(d);
    l.ln2_b = zeros_if(layer_norm, d);
    l.wq = normal({q_dim, d});
    l.wk = normal({kv_dim, d});
    l.wv = normal({kv_dim, d});
    l.bq = zeros_if(c.qkv_bias, q_dim);
    l.bk = zeros_if(c.qkv_bias, kv_dim);
    l.bv = zeros_if(c.qkv_bias, kv_dim);
    l.wo = normal({d, q_dim});
    l.bo = zeros_if(c.o_bias, d);
    if (c.qk_norm) l.q_norm = ones(c.d_head), l.k_norm = ones(c.d_head);
    if (c.gated_mlp) l.w_gate = normal({c.d_mlp, d});
    l.w_up = normal({c.d_mlp, d});
    l.w_down = normal({d, c.d_mlp});
    l.b_up = zeros_if(c.mlp_bias, c.d_mlp);
    l.b_down = zeros_if(c.mlp_bias, d);
    w.layers.push_back(std::move(l));
  }
  w.final_norm_w = ones(d);
  w.final_norm_b = zeros_if(layer_norm, d);
  w.unembed = c.tied_embeddings ? w.embed : normal({c.vocab_size, d});
  return w;
}

}  // namespace headscope
