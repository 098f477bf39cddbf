// One head's routing against block size, as `headscope snr --curves-png` plots it
// (docs/SNR.md): the measured SNR at the measured block sizes beside the single-key model's
// curve from the head's Δμ and σ, and the router's measured and predicted recall@k. Every
// number is one the result (and so /analyses/sparsity_snr) holds, or the model's formula
// applied to them.
#pragma once

#include <cstdint>
#include <vector>

#include "analyses/snr/sparsity_snr.h"

namespace headscope {

// Points of the theory curve between the smallest and the largest block size (log-spaced).
inline constexpr int64_t kTheoryCurvePoints = 24;

struct SnrHeadCurves {
  int64_t layer = 0, head = 0;
  std::vector<double> block_sizes;   // [nB], the measured ones
  std::vector<double> snr_measured;  // [nB]; NaN where no query was routed
  // snr_theory(Δμ, σ, B) at the integer block sizes log-spaced from the smallest to the largest
  // measured one, the measured ones included (where it equals the result's snr_theory).
  std::vector<double> theory_block_sizes, snr_theory;
  std::vector<double> topk;                                   // [nK]
  std::vector<std::vector<double>> recall, predicted_recall;  // [nK][nB]
};

SnrHeadCurves snr_head_curves(const SnrResult& result, int64_t layer, int64_t head);

struct SnrHead {
  int64_t layer = 0, head = 0;
  bool operator==(const SnrHead& o) const { return layer == o.layer && head == o.head; }
};

// The heads to plot: the `count` whose measured SNR at the smallest block size is highest, best
// first (heads with nothing routed there last, in layer and head order); count 0, or at least
// the number of heads: every head in layer and head order.
std::vector<SnrHead> snr_curve_heads(const SnrResult& result, int64_t count);

}  // namespace headscope
