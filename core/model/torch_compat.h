// Every difference between LibTorch 1.13 (Debian 12) and 2.x (inside PyTorch) lives here.
#pragma once

#include <torch/types.h>
#include <torch/version.h>

#define HEADSCOPE_TORCH_2 (TORCH_VERSION_MAJOR >= 2)
#define HEADSCOPE_TORCH_SDPA_SCALE (TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 1))

namespace headscope::compat {

// True when LibTorch has a fused scaled-dot-product attention that takes an explicit scale.
constexpr bool kHasFusedAttention = HEADSCOPE_TORCH_SDPA_SCALE;

// softmax(q kᵀ · scale + mask) v through LibTorch's fused kernels. q, k, v: [B, H, T, D] with
// k/v already expanded to H heads; `allowed` is a bool [Tq, Tk] mask, or undefined for plain
// causal attention with Tq == Tk. Only called when kHasFusedAttention.
inline torch::Tensor fused_attention(const torch::Tensor& q, const torch::Tensor& k,
                                     const torch::Tensor& v, const torch::Tensor& allowed,
                                     double scale) {
#if HEADSCOPE_TORCH_SDPA_SCALE
  if (allowed.defined()) {
    return at::scaled_dot_product_attention(q, k, v, allowed, 0.0, false, scale);
  }
  return at::scaled_dot_product_attention(q, k, v, {}, 0.0, true, scale);
#else
  (void)q, (void)k, (void)v, (void)allowed, (void)scale;
  TORCH_CHECK(false, "fused attention needs LibTorch >= 2.1");
#endif
}

}  // namespace headscope::compat
