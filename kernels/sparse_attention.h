// Per-head sparse attention: the executable form of headscope's own sparse config. Each query
// head of a layer is full, streaming (attention sinks + a local window) or block-sparse
// (MoBA-style: a query block reads its own block causally plus the top-k earlier key blocks,
// chosen by the dot product of the block's mean query with each block's mean key).
//
// The torch-ops path (sparse_attention_cpu.cpp) is the reference: it builds the kept-entry mask
// and runs masked softmax attention. sparse_attention() sends the CUDA tensors the CUDA kernel
// takes (kernels/cuda/sparse_attention_kernel.cu, kernels/sparse_attention_backends.h) to it; it
// computes the same function, within the rounding of its bf16/fp16 probabilities.
#pragma once

#include <cstdint>
#include <vector>

#include <torch/types.h>

#include "core/base/sparse_head_config.h"

namespace headscope {

// q: [B, H, T, D], k and v: [B, Hkv, T, D] (H a multiple of Hkv; query head h reads kv head
// h / (H / Hkv)), rotary applied, causal self-attention over the same T positions. `heads` holds
// one config per query head. Returns [B, H, T, D] in q's dtype; softmax in float32.
// Throws InvalidInput on mismatched shapes or a config with the wrong number of heads or
// non-positive sizes.
torch::Tensor sparse_attention(const torch::Tensor& q, const torch::Tensor& k,
                               const torch::Tensor& v, const std::vector<SparseHeadConfig>& heads,
                               double scale);

// The kept (query, key) entries, bool [B, H, T, T] (CPU reference; small T only).
torch::Tensor sparse_attention_mask(const torch::Tensor& q, const torch::Tensor& k,
                                    const std::vector<SparseHeadConfig>& heads);

// Fraction of the causal entries (T(T+1)/2 per head) each head keeps, float64 [B, H].
torch::Tensor sparse_kept_fraction(const torch::Tensor& q, const torch::Tensor& k,
                                   const std::vector<SparseHeadConfig>& heads);

}  // namespace headscope
