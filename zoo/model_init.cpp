#include "zoo/model_init.h"

#include <torch/torch.h>

namespace headscope {
namespace {

constexpr double kInitStd = 0.02;

}  // namespace

ModelWeights init_llama_weights(const ModelConfig& config, uint64_t seed, torch::Device device) {
  // Drawn on the CPU from a private generator, so weights do not depend on the device's RNG
  // or on whatever else consumed the global one.
  auto generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  const auto f32 = torch::TensorOptions().dtype(torch::kFloat32);
  auto normal = [&](std::vector<int64_t> shape) {
    auto t = at::normal(0.0, kInitStd, shape, generator, f32);
    return t.to(device).set_requires_grad(true);
  };
  auto ones = [&](int64_t n) {
    return torch::ones({n}, f32.device(device)).set_requires_grad(true);
  };

  const int64_t d = config.d_model, q_dim = config.n_heads * config.d_head,
                kv_dim = config.n_kv_heads * config.d_head;
  ModelWeights w;
  w.embed = normal({config.vocab_size, d});
  for (int64_t i = 0; i < config.n_layers; ++i) {
    LayerWeights layer;
    layer.ln1_w = ones(d);
    layer.wq = normal({q_dim, d});
    layer.wk = normal({kv_dim, d});
    layer.wv = normal({kv_dim, d});
    layer.wo = normal({d, q_dim});
    layer.ln2_w = ones(d);
    layer.w_gate = normal({config.d_mlp, d});
    layer.w_up = normal({config.d_mlp, d});
    layer.w_down = normal({d, config.d_mlp});
    w.layers.push_back(std::move(layer));
  }
  w.final_norm_w = ones(d);
  w.unembed = config.tied_embeddings ? w.embed : normal({config.vocab_size, d});
  return w;
}

std::vector<torch::Tensor> parameters(const ModelWeights& weights) {
  std::vector<torch::Tensor> out;
  auto add = [&](const torch::Tensor& t) {
    if (!t.defined()) return;
    for (const auto& seen : out) {
      if (seen.is_same(t)) return;
    }
    out.push_back(t);
  };
  add(weights.embed);
  add(weights.pos_embed);
  for (const auto& l : weights.layers) {
    for (const auto* t :
         {&l.ln1_w, &l.ln1_b, &l.ln2_w, &l.ln2_b, &l.wq, &l.wk, &l.wv, &l.bq, &l.bk, &l.bv, &l.wo,
          &l.bo, &l.q_norm, &l.k_norm, &l.w_gate, &l.w_up, &l.w_down, &l.b_up, &l.b_down}) {
      add(*t);
    }
  }
  add(weights.final_norm_w);
  add(weights.final_norm_b);
  add(weights.unembed);
  return out;
}

}  // namespace headscope
