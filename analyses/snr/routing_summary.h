// Sums of the per-query estimates of analyses/snr/block_routing.h over a head's queries, and the
// aggregate numbers docs/SNR.md defines: Δμ and σ over keys, Δμ_eff, σ_block and the measured SNR
// over blocks, router recall@k, mean rank and pairwise error, each beside its Gaussian-model
// prediction.
#pragma once

#include <cstdint>
#include <vector>

#include "analyses/snr/block_routing.h"

namespace headscope {

// Over queries: Δμ is the mean of the per-query gaps; σ the root of the mean per-query noise
// variance (the spread within one query, pooled), so one query's larger scores do not count as
// noise of another's.
class KeyAccumulator {
 public:
  void add(const KeyLevel& k);
  int64_t count() const { return count_; }
  double delta_mu() const;  // NaN without queries
  double sigma() const;

 private:
  int64_t count_ = 0;
  double delta_mu_sum_ = 0.0, var_sum_ = 0.0;
};

struct RoutingSummary {
  int64_t routed = 0;            // queries routed at this block size
  int64_t in_current_block = 0;  // queries whose relevant keys all lie in their own block
  double delta_mu_eff = 0.0;     // mean over routed queries
  double sigma_block = 0.0;  // sqrt(mean noise block variance) over queries with 2+ noise blocks
  // Δμ_eff / (sqrt(2) · σ_block): the same quantity as snr_theory, the relevant block's own
  // noise counted (the pairwise difference of two block scores has spread sqrt(2) · σ_block).
  double snr_measured = 0.0;
  double mean_rank = 0.0;        // 1 + noise blocks above the relevant one, mean over queries
  double pairwise_error = 0.0;   // mean over queries of (noise blocks above) / (noise blocks)
  double predicted_error = 0.0;  // Φ(-snr_measured)
  std::vector<double> recall;    // per k: fraction of routed queries with rank <= k
  std::vector<double>
      predicted_recall;  // per k: predicted_recall(snr_measured, n_q, k), mean over q
  double mean_noise_blocks = 0.0;
};

class BlockAccumulator {
 public:
  void add(const BlockLevel& b);
  // NaN statistics (and zero counts) where no query was routed.
  RoutingSummary summary(const std::vector<int64_t>& topk) const;
  // Per query added: the relevant block's rank, 0 where it was not routed.
  const std::vector<int64_t>& ranks() const { return ranks_; }

 private:
  int64_t in_current_block_ = 0;
  int64_t var_count_ = 0;
  double delta_mu_eff_sum_ = 0.0, var_sum_ = 0.0, pairwise_sum_ = 0.0;
  std::vector<int64_t> ranks_;
  std::vector<int64_t> noise_blocks_;  // per routed query
};

}  // namespace headscope
