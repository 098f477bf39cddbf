#include "analyses/snr/routing_summary.h"

#include <cmath>
#include <limits>
#include <map>

#include "analyses/snr/routing_theory.h"
#include "core/base/not_a_number.h"

namespace headscope {

void KeyAccumulator::add(const KeyLevel& k) {
  if (!k.valid) return;
  ++count_;
  delta_mu_sum_ += k.delta_mu;
  var_sum_ += k.noise_var;
}

double KeyAccumulator::delta_mu() const {
  return count_ == 0 ? kNaN : delta_mu_sum_ / static_cast<double>(count_);
}

double KeyAccumulator::sigma() const {
  return count_ == 0 ? kNaN : std::sqrt(var_sum_ / static_cast<double>(count_));
}

void BlockAccumulator::add(const BlockLevel& b) {
  if (b.in_current_block) ++in_current_block_;
  if (!b.routed) {
    ranks_.push_back(0);
    return;
  }
  ranks_.push_back(1 + b.above);
  noise_blocks_.push_back(b.noise_blocks);
  delta_mu_eff_sum_ += b.delta_mu_eff;
  pairwise_sum_ += static_cast<double>(b.above) / static_cast<double>(b.noise_blocks);
  if (b.has_block_var) {
    ++var_count_;
    var_sum_ += b.block_var;
  }
}

RoutingSummary BlockAccumulator::summary(const std::vector<int64_t>& topk) const {
  RoutingSummary s;
  s.routed = static_cast<int64_t>(noise_blocks_.size());
  s.in_current_block = in_current_block_;
  s.recall.assign(topk.size(), kNaN);
  s.predicted_recall.assign(topk.size(), kNaN);
  if (s.routed == 0) {
    s.delta_mu_eff = s.sigma_block = s.snr_measured = s.mean_rank = kNaN;
    s.pairwise_error = s.predicted_error = s.mean_noise_blocks = kNaN;
    return s;
  }
  const auto routed = static_cast<double>(s.routed);
  s.delta_mu_eff = delta_mu_eff_sum_ / routed;
  s.sigma_block = var_count_ == 0 ? kNaN : std::sqrt(var_sum_ / static_cast<double>(var_count_));
  s.snr_measured = s.sigma_block > 0.0 ? s.delta_mu_eff / (std::sqrt(2.0) * s.sigma_block) : kNaN;
  s.pairwise_error = pairwise_sum_ / routed;
  s.predicted_error = pairwise_error_probability(s.snr_measured);

  double rank_sum = 0.0, noise_sum = 0.0;
  std::vector<int64_t> hits(topk.size(), 0);
  std::map<int64_t, int64_t> queries_with;  // noise blocks -> queries (the prediction's input)
  for (const int64_t rank : ranks_) {
    if (rank == 0) continue;
    rank_sum += static_cast<double>(rank);
    for (size_t i = 0; i < topk.size(); ++i) hits[i] += rank <= topk[i] ? 1 : 0;
  }
  for (const int64_t n : noise_blocks_) {
    noise_sum += static_cast<double>(n);
    ++queries_with[n];
  }
  s.mean_rank = rank_sum / routed;
  s.mean_noise_blocks = noise_sum / routed;
  for (size_t i = 0; i < topk.size(); ++i) {
    s.recall[i] = static_cast<double>(hits[i]) / routed;
    double predicted = 0.0;
    for (const auto& [n, count] : queries_with) {
      predicted += static_cast<double>(count) * predicted_recall(s.snr_measured, n, topk[i]);
    }
    s.predicted_recall[i] = predicted / routed;
  }
  return s;
}

}  // namespace headscope
