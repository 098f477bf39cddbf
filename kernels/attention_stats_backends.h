// The implementations behind attention_stats(): the CPU reference and, where LibTorch has CUDA
// and the kernels are built in (HEADSCOPE_CUDA_KERNELS), the CUDA kernels. attention_stats()
// picks one; tests and benchmarks call them directly.
#pragma once

#include "kernels/attention_stats.h"

namespace headscope {

// Throws InvalidInput on bad shapes or options (shared by every backend).
void check_attention_stats_inputs(const torch::Tensor& q, const torch::Tensor& k,
                                  const AttentionStatsOptions& options);

// attention_stats' checks plus v's shape (k's).
void check_attention_with_stats_inputs(const torch::Tensor& q, const torch::Tensor& k,
                                       const torch::Tensor& v,
                                       const AttentionStatsOptions& options);

// The chunked CPU reference; takes tensors on any device, returns CPU tensors.
AttentionStats attention_stats_cpu(const torch::Tensor& q, const torch::Tensor& k,
                                   const AttentionStatsOptions& options);

// attention_with_stats() on the CPU, for tensors on any device (outputs on the CPU): the chunked
// statistics' probabilities e = exp(s - max) and row sums also give z = (e · v) / Σe and
// lse = max + log Σe, all in float32 (z then in q's dtype), so the model's own attention need not
// run. Statistics bitwise those of attention_stats_cpu (the same code); memory O(chunk x T);
// sliding windows too. Throws InvalidInput on bad shapes or options.
AttentionWithStats attention_with_stats_cpu(const torch::Tensor& q, const torch::Tensor& k,
                                            const torch::Tensor& v,
                                            const AttentionStatsOptions& options);

// True when this build has the CUDA kernels, they were compiled for the tensors' GPU
// (kernels/cuda_architectures.h), and they take these inputs: q and k CUDA tensors on one
// device, both bfloat16 or both float16, head dim <= 128 (smaller ones are padded), topk <= 16,
// block size 64 or 128. Other CUDA inputs take the CPU reference.
bool attention_stats_cuda_supports(const torch::Tensor& q, const torch::Tensor& k,
                                   const AttentionStatsOptions& options);

// The CUDA kernels, outputs on q's device (allocated here, or the caller's tensors of the shapes
// and dtypes attention_stats returns, every element of which is written; an undefined
// out.block_mass skips the second pass). Throws InvalidInput, naming the reason, when
// attention_stats_cuda_supports() is false.
// `lse` as in attention_stats_where_computed (one pass; ignored without block_mass).
AttentionStats attention_stats_cuda(const torch::Tensor& q, const torch::Tensor& k,
                                    const AttentionStatsOptions& options,
                                    const torch::Tensor& lse = {});
void attention_stats_cuda_into(const torch::Tensor& q, const torch::Tensor& k,
                               const AttentionStatsOptions& options, AttentionStats& out,
                               const torch::Tensor& lse = {});

// attention_with_stats() on CUDA: LibTorch's fused attention and the one-pass kernel;
// nullopt where either does not take the inputs.
std::optional<AttentionWithStats> attention_with_stats_cuda(const torch::Tensor& q,
                                                            const torch::Tensor& k,
                                                            const torch::Tensor& v,
                                                            const AttentionStatsOptions& options);

}  // namespace headscope
