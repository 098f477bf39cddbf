// The decoder-only transformer every supported family runs on. Family differences are data
// (ModelConfig and the weight-name table), so one forward pass serves all of them.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <torch/types.h>

#include "core/checkpoint/checkpoint_weights.h"
#include "core/checkpoint/model_config.h"
#include "core/model/hook_names.h"
#include "core/model/hook_sink.h"
#include "core/model/kv_cache.h"
#include "core/model/layer_placement.h"
#include "core/model/model_weights.h"
#include "core/model/rope.h"
#include "core/model/tensor_parallel.h"

namespace headscope {

struct ModelLoadOptions {
  // Compute dtype; unset: the checkpoint's dtype (float16 becomes float32 on the CPU, where
  // LibTorch lacks half-precision matmul).
  std::optional<torch::ScalarType> dtype;
  torch::Device device = torch::kCPU;
  // Pipeline placement (core/model/layer_placement.h): consecutive layers on these devices, the
  // embedding on the first (then also `device`), the final norm and unembedding on the last.
  // Empty: every weight on `device`.
  std::vector<torch::Device> devices;
  // This process's rank among those that hold the model together (core/model/tensor_parallel.h);
  // the default is the whole model in one process.
  TensorParallel tensor_parallel;

  ModelLoadOptions& with_dtype(torch::ScalarType d) { return dtype = d, *this; }
  ModelLoadOptions& with_device(torch::Device d) { return device = d, *this; }
  ModelLoadOptions& with_devices(std::vector<torch::Device> d) {
    if (!d.empty()) device = d.front();
    return devices = std::move(d), *this;
  }
  ModelLoadOptions& with_tensor_parallel(TensorParallel tp) {
    return tensor_parallel = std::move(tp), *this;
  }
};

// Which positions forward() computes logits for. The unembedding is the largest product of a
// long-context forward ([T, vocab]: 34 GB in bf16 at 128K tokens with Llama-3's vocabulary), so
// callers that read only the last position, or none, say so.
enum class LogitPositions { kAll, kLast, kNone };

class Transformer {
 public:
  // Loads config.json and the safetensors weights of a Hugging Face model directory (only this
  // rank's share under tensor parallelism; InvalidInput when the model does not split so, or
  // when tensor parallelism and pipeline placement are both asked for).
  static std::shared_ptr<Transformer> load(const std::string& dir,
                                           const ModelLoadOptions& options = {});

  // A model around weights already in memory (the trainer's parameters: updating those tensors
  // in place updates the model). Compute dtype and device are the embedding's.
  static std::shared_ptr<Transformer> from_weights(ModelConfig config, ModelWeights weights,
                                                   std::string path = "");

  // tokens: [B, T] integer ids, best on the CPU: they are checked against the vocabulary there
  // before upload (ids on a device are copied back once for the check). Returns logits
  // [B, T, vocab] in the compute dtype on device() ([B, 1, vocab] for kLast, an undefined
  // tensor for kNone; every hook fires either way).
  // With pipeline placement (placement()) each layer's hook values and KV cache are on the
  // layer's device; the embedding points on the first, ln_final on the last.
  // `hooks` (optional) sees every hook point; `cache` (optional) supplies earlier positions
  // and receives this call's keys and values.
  // Under tensor parallelism every rank calls forward() with the same tokens (the sums over the
  // ranks are collectives) and gets the whole logits. Its hooks see its own share (shard()):
  // q, k, v, rot_q, rot_k, attn_scores, pattern, z and result hold its heads (head dimension
  // `heads`, global head index head_begin + h; k and v its KV heads from kv_head_begin),
  // mlp_pre and mlp_post its MLP columns (from mlp_begin); attn_out, mlp_out and every residual,
  // norm and embedding point hold the whole sum, the same on every rank. The KV cache holds its
  // KV heads. Attention overrides (HookSink::attend) are refused. Forward only: the sums are
  // not differentiable.
  torch::Tensor forward(const torch::Tensor& tokens, HookSink* hooks = nullptr,
                        KVCache* cache = nullptr,
                        LogitPositions positions = LogitPositions::kAll) const;

  // The layers from `first_layer` on, given the residual stream entering that layer
  // ([B, T, d_model], what hook_resid_pre of `first_layer` sees; no KV cache, position 0 first):
  // the rest of forward(). A sweep that changes nothing below a layer reuses the prefix it
  // computed once instead of recomputing it per row.
  torch::Tensor forward_from(int64_t first_layer, const torch::Tensor& resid_pre,
                             HookSink* hooks = nullptr,
                             LogitPositions positions = LogitPositions::kAll) const;

  const ModelConfig& config() const { return config_; }
  // The factor on q·k before the softmax.
  double attention_scale() const;
  const HookNames& hook_names() const { return names_; }
  const ModelWeights& weights() const { return weights_; }
  const std::string& path() const { return path_; }
  torch::ScalarType dtype() const { return dtype_; }
  // The embedding's device: where tokens go and logits come back.
  torch::Device device() const { return device_; }
  // The device of every layer (all on device() without pipeline placement).
  const LayerPlacement& placement() const { return placement_; }
  // The heads and MLP columns this process computes: the whole model unless tensor-parallel.
  const ModelShard& shard() const { return shard_; }

 private:
  Transformer(std::string path, ModelConfig config, std::shared_ptr<const CheckpointWeights> ckpt,
              const ModelLoadOptions& options);
  Transformer(std::string path, ModelConfig config, ModelWeights weights);

  void make_rotary();
  torch::Tensor norm(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b) const;
  torch::Tensor attention(int64_t layer, const torch::Tensor& x, HookSink* hooks, KVCache* cache,
                          int64_t offset) const;
  torch::Tensor mlp(int64_t layer, const torch::Tensor& x, HookSink* hooks) const;
  // Layers first_layer.. on x, then the final norm and the logits at `positions`.
  torch::Tensor layers_and_logits(torch::Tensor x, int64_t first_layer, HookSink* hooks,
                                  KVCache* cache, int64_t offset, LogitPositions positions) const;
  // x @ w^T summed over the ranks, then + b: the output and down projections, whose inputs are
  // split by columns (just linear() in one process).
  torch::Tensor row_parallel_linear(const torch::Tensor& x, const torch::Tensor& w,
                                    const torch::Tensor& b) const;
  // `partial` summed over the ranks (itself in one process).
  torch::Tensor sum_over_ranks(torch::Tensor partial) const;

  std::string path_;
  ModelConfig config_;
  std::shared_ptr<const CheckpointWeights> checkpoint_;  // owns the mappings weights may view
  torch::ScalarType dtype_;
  torch::Device device_;
  ModelWeights weights_;
  HookNames names_;
  TensorParallel tensor_parallel_;
  ModelShard shard_;
  LayerPlacement placement_;
  std::vector<Rotary> rotary_;  // per device of placement_; none with learned positions
};

}  // namespace headscope
