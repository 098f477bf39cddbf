// A model's parameters as LibTorch tensors, loaded from a checkpoint through the per-family
// name table in model_weights.cpp. Linear weights are [out, in] whatever the file layout.
#pragma once

#include <optional>
#include <vector>

#include <torch/types.h>

#include "core/checkpoint/checkpoint_weights.h"
#include "core/checkpoint/model_config.h"
#include "core/model/tensor_parallel.h"

namespace headscope {

struct LayerWeights {
  torch::Tensor ln1_w, ln1_b, ln2_w, ln2_b;  // *_b undefined for RMSNorm
  torch::Tensor wq, wk, wv, bq, bk, bv;      // [H*D, d_model], [Hkv*D, d_model]; biases optional
  torch::Tensor wo, bo;                      // [d_model, H*D]
  torch::Tensor q_norm, k_norm;              // [D], Qwen3 only
  torch::Tensor w_gate, w_up, w_down;        // w_gate undefined without a gated MLP
  torch::Tensor b_up, b_down;
};

struct ModelWeights {
  torch::Tensor embed;      // [vocab, d_model]
  torch::Tensor pos_embed;  // [positions, d_model], GPT-2 only
  torch::Tensor final_norm_w, final_norm_b;
  torch::Tensor unembed;  // [vocab, d_model]; the embedding itself when tied
  std::vector<LayerWeights> layers;

  int64_t parameter_count() const;
};

struct WeightLoadOptions {
  torch::ScalarType dtype = torch::kFloat32;
  torch::Device device = torch::kCPU;
  // Only this rank's share of the layers' projections (core/model/tensor_parallel.h); sliced
  // from the file's mapping before conversion and upload, so a rank never holds the whole model.
  std::optional<ModelShard> shard;
};

// Throws InvalidInput naming the tensor and the expected shape when a tensor is missing or has
// the wrong shape, and naming the first leftover tensors when the checkpoint holds parameters the
// model does not use (more layers than config.json says, another family's names): a silently
// truncated model is never loaded. Buffers older transformers versions saved (causal masks,
// rotary inv_freq) and a tied model's stored lm_head are not parameters and are ignored.
ModelWeights load_model_weights(const ModelConfig& config, const CheckpointWeights& checkpoint,
                                const WeightLoadOptions& options);

}  // namespace headscope
