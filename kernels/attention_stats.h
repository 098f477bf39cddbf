// Per-head attention statistics computed without materialising a T x T map (the long-context
// recording mode). attention_stats() runs the CUDA kernels (kernels/cuda/) on the CUDA tensors
// they take and the chunked CPU reference on everything else (kernels/attention_stats_backends.h).
//
// For query i (causal, optional sliding window), with s_ij = scale * q_i . k_j over allowed
// keys j, lse_i = log sum_j exp(s_ij) and p_ij = exp(s_ij - lse_i):
//   entropy     lse_i - sum_j p_ij s_ij (nats; no log of tiny probabilities)
//   sink_mass   sum of p_ij over j < sink
//   local_mass  sum of p_ij over the last `window` keys up to and including i
//   max_prob, argmax  the largest p_ij and its key (lowest key on ties)
//   topk        the k largest p_ij, descending; slots beyond the allowed keys hold index -1, p 0
//   block_mass  [H, nb, nb], nb = ceil(T / B): for query block a and key block b, the mean over
//               a's query rows of the mass in key block b
#pragma once

#include <optional>

#include <torch/types.h>

namespace headscope {

struct AttentionStatsOptions {
  double scale = 1.0;                     // the model's factor on q.k
  std::optional<int64_t> sliding_window;  // the model's own window, if it has one
  int64_t sink = 4;
  int64_t window = 64;  // local_mass window, keys
  int64_t topk = 8;
  int64_t block_size = 64;
  int64_t chunk = 256;  // queries per step: peak memory O(chunk x T) per head

  AttentionStatsOptions& with_scale(double v) { return scale = v, *this; }
  AttentionStatsOptions& with_sliding_window(std::optional<int64_t> v) {
    return sliding_window = v, *this;
  }
  AttentionStatsOptions& with_sink(int64_t v) { return sink = v, *this; }
  AttentionStatsOptions& with_window(int64_t v) { return window = v, *this; }
  AttentionStatsOptions& with_topk(int64_t v) { return topk = v, *this; }
  AttentionStatsOptions& with_block_size(int64_t v) { return block_size = v, *this; }
  AttentionStatsOptions& with_chunk(int64_t v) { return chunk = v, *this; }
};

struct AttentionStats {
  torch::Tensor entropy, sink_mass, local_mass, max_prob;  // float32 [H, T]
  torch::Tensor argmax;                                    // int32 [H, T]
  torch::Tensor topk_index;                                // int32 [H, T, k]
  torch::Tensor topk_prob;                                 // float32 [H, T, k]
  torch::Tensor block_mass;                                // float32 [H, nb, nb]
};

// q: [H, T, D], k: [Hkv, T, D] with H a multiple of Hkv (query head h reads kv head
// h / (H / Hkv)), rotary already applied. Any float dtype; scores are computed in float32.
// Throws InvalidInput on bad shapes or options.
AttentionStats attention_stats(const torch::Tensor& q, const torch::Tensor& k,
                               const AttentionStatsOptions& options);

// attention_stats() with the outputs left where they were computed: on q's GPU when the CUDA
// kernels take these inputs, else on the CPU (a recorder copies them to the host without
// stalling the GPU). `lse`, if defined: each row's natural-log normaliser of scale·q·kᵀ, float32
// [H, T] on q's device, as fused attention returns it; the CUDA kernels then make every
// statistic in one pass over the scores instead of two. The statistics do not depend on it
// beyond rounding: entropy and the masses are normalised by the pass's own sum, and block_mass
// moves by the relative error of `lse`.
AttentionStats attention_stats_where_computed(const torch::Tensor& q, const torch::Tensor& k,
                                              const AttentionStatsOptions& options,
                                              const torch::Tensor& lse = {});

struct AttentionWithStats {
  torch::Tensor z;    // [H, T, D], q's dtype
  torch::Tensor lse;  // [H, T] float32: the attention's natural-log normalisers
  AttentionStats stats;
};

// Causal self-attention z = softmax(scale·q kᵀ) v and its statistics from one fused path, where
// one exists for these inputs: on CUDA, the output and log-sum-exp of the fused attention
// LibTorch picks (cuDNN, flash or memory-efficient; LibTorch >= 2.5) feed the one-pass
// statistics kernel; on the CPU, the chunked statistics' probabilities also make z (float32,
// any input dtype and sliding window). v: [Hkv, T, D] like k; outputs on q's device. nullopt
// when CUDA inputs have no such path (no kernels, a float32 model, a sliding window shorter
// than the sequence): compute the attention and attention_stats() apart.
std::optional<AttentionWithStats> attention_with_stats(const torch::Tensor& q,
                                                       const torch::Tensor& k,
                                                       const torch::Tensor& v,
                                                       const AttentionStatsOptions& options);

}  // namespace headscope
