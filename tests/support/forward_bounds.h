// First-order error bounds of a whole transformer forward pass in float32, for parity with
// another float32 implementation (transformers' eager reference) or between two of our own
// paths (fused and explicit attention, cached decoding). A value has gone through a chain of
// roundings: per block the norm, the q/k/v products, scores, softmax, P·V, the output
// projection, the second norm, the MLP products and the residual adds. Its error is at most
// gamma_N times the magnitude of the terms that formed it, N the chain's total length, provided
// no stage amplifies relative error: norms divide scale out, products err relative to |terms|,
// and softmax turns a score error d into a relative probability error 2d (scores here are
// O(1)). Each of two float32 computations is within that bound, so they agree within twice it.
#pragma once

#include <string>

#include <torch/types.h>

#include "core/checkpoint/model_config.h"
#include "tests/support/tolerance.h"

namespace headscope::test::tol {

// Roundings along the forward pass up to the output of block `blocks` (0: the embedding), with
// `final` adding the final norm and the unembedding.
inline int64_t chain_length(const ModelConfig& c, int64_t seq, int64_t blocks, bool final) {
  const int64_t norm = c.d_model + 3;  // sum of squares, mean, rsqrt, scale
  const int64_t attention = norm + (c.d_model + 1) + (c.qk_norm ? c.d_head + 3 : 0) + 3 +
                            (c.d_head + 1) + (seq + 4) + seq + (c.n_heads * c.d_head + 1) + 1;
  const int64_t mlp = norm + (c.d_model + 1) + 4 + 1 + (c.d_mlp + 1) + 1;
  return 1 + blocks * (attention + mlp) + (final ? norm + c.d_model : 0);
}

// gamma of that chain in float32.
inline double forward_gamma(const ModelConfig& c, int64_t seq, int64_t blocks, bool final) {
  return gamma(chain_length(c, seq, blocks, final), kFloat32);
}

// Bound on the logits of two float32 forward passes: 2 gamma_N |h| |W_U|ᵀ, h the input of the
// unembedding (ln_final.hook_normalized), W_U [vocab, d_model].
inline torch::Tensor logits_bound(const ModelConfig& c, int64_t seq, const torch::Tensor& h,
                                  const torch::Tensor& unembed) {
  return 2.0 * forward_gamma(c, seq, c.n_layers, true) * abs_matmul(h, unembed.t());
}

// Roundings a bfloat16 forward pass adds to the float32 chain: every op's output is stored in
// bf16 (products accumulate in float32), per block the norm, q/k/v, rotary, scores, softmax,
// P·V, output projection, residual add, second norm, gate, up, activation, gate product, down
// and residual add; plus the embedding, the final norm and the unembedding.
inline int64_t bf16_roundings(const ModelConfig& c) { return 3 + 16 * c.n_layers; }

// Weight matrices and norm weights a value passes through (rounding the weights to bf16 moves
// each product by u_bf16 of its terms): per block the input norm, q, k, v, o, the second norm,
// gate, up, down; plus the embedding, the final norm and the unembedding.
inline int64_t weight_roundings(const ModelConfig& c) { return 3 + 9 * c.n_layers; }

}  // namespace headscope::test::tol
