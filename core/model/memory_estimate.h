// What a model, a forward pass and a recording will allocate, checked against the device's
// memory before anything is allocated: a run too large for the machine ends in one error that
// names the estimate, not in the OOM killer or the allocator's message.
//
// Estimates are of the peak (the largest tensors alive at once), rounded up rather than down,
// and in bytes as doubles: a config may claim 2^63 layers, whose byte counts overflow int64.
#pragma once

#include <cstdint>
#include <string>

#include <torch/types.h>

#include "core/checkpoint/model_config.h"
#include "core/model/layer_placement.h"
#include "core/model/torch_compat.h"

namespace headscope {

// Parameters of a model of this config (every tensor random_model_weights makes).
double parameter_count(const ModelConfig& config);

// The weights in a compute dtype of `element_size` bytes.
double weight_bytes(const ModelConfig& config, int64_t element_size);

// Keys and values of every layer for `tokens` positions of `batch` sequences.
double kv_cache_bytes(const ModelConfig& config, int64_t batch, int64_t tokens,
                      int64_t element_size);

struct ForwardShape {
  int64_t batch = 1;
  int64_t tokens = 0;
  // Whole [batch, heads, tokens, tokens] scores and patterns per layer (hook_pattern recorded),
  // instead of attention computed a block of queries at a time.
  bool attention_maps = false;
  // Positions per sequence whose logits are computed (0, 1 or tokens).
  int64_t logit_positions = 0;
  // Attention through LibTorch's fused kernel (Transformer::attention where the build has it)
  // rather than the chunked path, whose [H, 256, T] scratch it does not allocate.
  bool fused_attention = compat::kHasFusedAttention;
};

// Peak of one forward pass beyond the weights: one layer's activations and attention, and the
// logits.
double forward_bytes(const ModelConfig& config, const ForwardShape& shape, int64_t element_size);

// Peak of the attention-statistics pass over one layer of `tokens` positions
// (kernels/attention_stats_cpu.cpp): its outputs for every head ([H, T, k] top-k, [H, nb, nb]
// block mass) and one chunk of queries' scores, with keys padded to whole blocks.
double attention_stats_bytes(const ModelConfig& config, int64_t tokens, int64_t topk,
                             int64_t block_size, int64_t chunk);

// One layer's statistics as the recorder writes them ([H, T] rows, [H, T, k] top-k, [H, nb, nb]
// block mass).
double attention_stats_output_bytes(const ModelConfig& config, int64_t tokens, int64_t topk,
                                    int64_t block_size);

// The byte budget of statistics in flight to the file while later layers compute
// (AttentionStatsRecorder, core/store/chunk_write_queue.h), for layers of `layer_bytes`: four
// layers, capped at 4 GiB but at least one layer. A layer counts from its submission, while the
// GPU still computes it, so two layers left the GPU waiting whenever compressing one took
// longer than computing the next (issue 17: Llama-3-8B shape at 128K, 0.49 GB a layer). Their
// compressed chunks take at most about as much again.
double stats_write_budget_bytes(double layer_bytes);

// Bytes free for new allocations: MemAvailable (/proc/meminfo; physical memory where that is
// missing) for the CPU, the device's free memory for CUDA (infinity where this build cannot ask).
double available_memory_bytes(torch::Device device);

// "1.5 GiB", "12 KiB", "3.2e+06 TiB".
std::string format_bytes(double bytes);

// InvalidInput "<what> needs about X, more than the Y of memory available on <device>[; hint]"
// when `bytes` exceed available_memory_bytes(device).
void check_memory_fits(double bytes, torch::Device device, const std::string& what,
                       const std::string& hint = "");

// check_memory_fits on every device of a pipeline (core/model/layer_placement.h): `peak` (one
// layer's activations and the logits, which each device may hold at its busiest) plus
// `per_layer` bytes (a KV cache) for each layer it holds. A device named twice holds both
// shares. One device: check_memory_fits(peak + n_layers * per_layer, device, ...).
void check_placement_fits(const LayerPlacement& placement, double peak, double per_layer,
                          const std::string& what, const std::string& hint = "");

}  // namespace headscope
