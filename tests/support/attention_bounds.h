// Error bounds of softmax attention computed in a precision with unit roundoff u, against the
// exact values, for any summation order: of the probabilities, of the statistics of
// kernels/attention_stats.h, of lse and of P·V. Derivation (first order in u, Higham ch. 3):
//   scores  |ŝ_ij - s_ij| <= E_ij = (gamma_{D+1} + 2 r) scale |q_i|·|k_j|  (D products, the
//           scale; r: relative error already in q and k)
//   probs   p̂_ij = p_ij (1 + θ), |θ| <= ρ_ij = expm1(E_ij + E_i) + u (2|s_ij| + 2|lse_i| +
//           log n_i) + gamma_{n_i+4}: the score errors move exp(s_ij) and the normaliser
//           (E_i = max_j E_ij), the subtractions s - max and s - lse round relative to |s| and
//           |lse|, and a sum of n_i exponentials plus exp, log and the division round.
// Statistics then add the rounding of their own sums (see each function).
#pragma once

#include <cmath>
#include <limits>

#include <torch/types.h>

#include "tests/support/tolerance.h"

namespace headscope::test::tol {

struct AttentionBounds {
  torch::Tensor allowed;    // bool, broadcastable to [..., H, T, T]
  torch::Tensor scores;     // exact s (float64), masked entries 0
  torch::Tensor probs;      // exact p (float64), masked entries 0
  torch::Tensor lse;        // [..., H, T, 1]
  torch::Tensor score_err;  // E_ij, masked entries 0
  torch::Tensor rel;        // ρ_ij, masked entries 0
  torch::Tensor count;      // n_i, allowed keys of each query [..., 1, T, 1]
  double u = kFloat32;

  // Mass over the keys in `keys` (bool, broadcastable): Σ p (ρ + gamma_n + u), the last two for
  // the sum of up to n terms and the rounding of the stored value. [..., H, T]
  torch::Tensor mass(const torch::Tensor& keys) const {
    auto n = count.to(torch::kFloat64);
    auto gamma_n = n * u / (1.0 - n * u);
    return (probs * (rel + gamma_n + u) * keys.logical_and(allowed)).sum(-1);
  }
  // The r-th largest probability moves by at most the largest |p̂_j - p_j| of its row, plus
  // the stored value's rounding. [..., H, T]
  torch::Tensor top() const {
    return std::get<0>((probs * rel).max(-1)) + u * std::get<0>(probs.max(-1));
  }
  // entropy = lse - Σ p s: lse moves by E_i plus its own rounding (gamma_{n+3}, u |lse|, u |max|
  // <= u (|lse| + log n)); Σ p̂ ŝ errs by Σ p (ρ |s| + E (1 + ρ) + gamma_n |s|); then the final
  // subtraction and store round (2u |H|). [..., H, T]
  torch::Tensor entropy() const {
    auto n = count.to(torch::kFloat64).squeeze(-1);
    auto gamma_n = n * u / (1.0 - n * u);
    auto e_row = std::get<0>(score_err.max(-1));
    auto l = lse.squeeze(-1).abs();
    auto h = lse.squeeze(-1) - (probs * scores).sum(-1);
    auto sum_ps = (probs * (rel * scores.abs() + score_err * (1.0 + rel))).sum(-1) +
                  gamma_n * (probs * scores.abs()).sum(-1);
    return e_row + (n + 3) * u / (1.0 - (n + 3) * u) + u * (2.0 * l + n.log()) + sum_ps +
           2.0 * u * h.abs();
  }
  // Block mass (mean over a query block's rows of the mass in a key block): per row a sum of
  // up to B terms, then a sum of up to B rows and a division, so gamma_{2B+2}. [..., H, nb, nb]
  torch::Tensor block_mass(int64_t block) const {
    const int64_t seq = probs.size(-1), nb = (seq + block - 1) / block;
    auto per = probs * (rel + gamma(2 * block + 2, u)) * allowed;
    auto lead = per.sizes().vec();
    lead.resize(lead.size() - 2);
    auto padded = torch::constant_pad_nd(per, {0, nb * block - seq, 0, nb * block - seq});
    auto shape = lead;
    for (int64_t d : {nb, block, nb, block}) shape.push_back(d);
    auto sums = padded.reshape(shape).sum(-1).sum(-2);  // [..., nb, nb]
    auto rows = torch::clamp_max(seq - torch::arange(nb) * block, block).to(torch::kFloat64);
    return sums / rows.view({nb, 1});
  }
  // lse computed as max + log Σ exp(s - max): the score errors move it by E_i; each difference
  // s - max rounds by u (|s| + |max|), |max| <= |lse| + log n, which the exponential turns into a
  // relative error, weighted by p in the sum; the exponentials and the sum of n terms round
  // (gamma_{n+1}), the log by u log n (Σ exp(s - max) <= n) and the final addition by u |lse|.
  // [..., H, T]
  torch::Tensor lse_error() const {
    auto n = count.to(torch::kFloat64).squeeze(-1);
    auto gamma_n1 = (n + 1) * u / (1.0 - (n + 1) * u);
    auto l = lse.squeeze(-1).abs();
    return std::get<0>(score_err.max(-1)) + gamma_n1 +
           u * ((probs * scores.abs()).sum(-1) + 2.0 * l + 2.0 * n.log());
  }
  // P·V over the allowed keys: Σ_j p (ρ + gamma_n) |v_j| elementwise, plus the stored value's
  // rounding u |p| |v|. v: [..., H, T, D] (already repeated for grouped heads).
  torch::Tensor attend(const torch::Tensor& v) const {
    auto n = count.to(torch::kFloat64);
    auto gamma_n = n * u / (1.0 - n * u);
    auto abs_v = v.to(torch::kCPU, torch::kFloat64).abs();
    return torch::matmul(probs * (rel + gamma_n + u), abs_v);
  }
};

// q: [..., H, T, D], k: [..., Hkv, T, D] (query head h reads kv head h / (H / Hkv)), allowed:
// bool broadcastable to [..., H, T, T]. input_rel: relative error q and k already carry.
inline AttentionBounds attention_bounds(const torch::Tensor& q, const torch::Tensor& k,
                                        double scale, const torch::Tensor& allowed, double u,
                                        double input_rel = 0.0) {
  const int64_t group = q.size(-3) / k.size(-3), dim = q.size(-1);
  auto q64 = q.to(torch::kCPU, torch::kFloat64);
  auto k64 = k.to(torch::kCPU, torch::kFloat64).repeat_interleave(group, -3);
  AttentionBounds b;
  b.u = u;
  b.allowed = allowed.to(torch::kCPU);
  const double neg_inf = -std::numeric_limits<double>::infinity();
  auto s = torch::matmul(q64, k64.transpose(-1, -2)) * scale;
  auto masked = s.masked_fill(b.allowed.logical_not(), neg_inf);
  b.lse = torch::logsumexp(masked, -1, /*keepdim=*/true);
  b.probs = torch::exp(masked - b.lse);
  b.scores = s.masked_fill(b.allowed.logical_not(), 0.0);
  b.count = b.allowed.sum(-1, /*keepdim=*/true).to(torch::kFloat64);
  b.score_err = ((gamma(dim + 1, u) + 2.0 * input_rel) * scale *
                 torch::matmul(q64.abs(), k64.abs().transpose(-1, -2)))
                    .masked_fill(b.allowed.logical_not(), 0.0);
  auto e_row = std::get<0>(b.score_err.max(-1, /*keepdim=*/true));
  auto n = b.count;
  auto gamma_n4 = (n + 4) * u / (1.0 - (n + 4) * u);
  b.rel = (torch::expm1(b.score_err + e_row) +
           u * (2.0 * b.scores.abs() + 2.0 * b.lse.abs() + n.log()) + gamma_n4)
              .masked_fill(b.allowed.logical_not(), 0.0);
  return b;
}

}  // namespace headscope::test::tol
