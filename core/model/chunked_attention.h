// Causal attention computed a block of queries at a time: memory O(chunk x keys) per head
// instead of O(queries x keys). The model's attention path where LibTorch has no fused kernel
// (1.13), and the reason a 32K-token forward fits in a few hundred MB there.
#pragma once

#include <optional>

#include <torch/types.h>

namespace headscope {

// q: [B, H, T, D]; k, v: [B, H, S, D] (already expanded for GQA). Query i sits at position
// offset + i and sees keys j <= offset + i (and j > offset + i - window). Softmax in float32,
// as the explicit path. Returns [B, H, T, D] in q's dtype.
torch::Tensor chunked_causal_attention(const torch::Tensor& q, const torch::Tensor& k,
                                       const torch::Tensor& v, int64_t offset,
                                       std::optional<int64_t> window, double scale,
                                       int64_t chunk = 256);

}  // namespace headscope
