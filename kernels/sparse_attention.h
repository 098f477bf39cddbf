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

namespace headscope {

enum class SparseKind { kFull, kStreaming, kBlockSparse };

struct SparseHeadConfig {
  SparseKind kind = SparseKind::kFull;
  // kStreaming: query i keeps key j <= i when j < sink or j > i - window.
  int64_t sink = 0;
  int64_t window = 0;
  // kBlockSparse: query block a = i / block_size keeps its own block (causally) and the
  // topk_blocks earlier blocks b < a with the highest mean(q of block a) . mean(k of block b)
  // (all earlier blocks when a <= topk_blocks; ties keep the lower b). Block means average only
  // the positions that exist (the last block may be short).
  int64_t block_size = 64;
  int64_t topk_blocks = 0;

  static SparseHeadConfig full() { return {}; }
  static SparseHeadConfig streaming(int64_t sink, int64_t window) {
    SparseHeadConfig c;
    c.kind = SparseKind::kStreaming, c.sink = sink, c.window = window;
    return c;
  }
  static SparseHeadConfig block_sparse(int64_t block_size, int64_t topk_blocks) {
    SparseHeadConfig c;
    c.kind = SparseKind::kBlockSparse, c.block_size = block_size, c.topk_blocks = topk_blocks;
    return c;
  }
};

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
