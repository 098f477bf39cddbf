#include "analyses/snr/snr_head_curves.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "analyses/snr/routing_theory.h"

namespace headscope {

SnrHeadCurves snr_head_curves(const SnrResult& result, int64_t layer, int64_t head) {
  const std::vector<int64_t>& sizes = result.options.block_sizes;
  const std::vector<int64_t>& topk = result.options.topk;
  const auto slot = static_cast<size_t>(layer * result.heads + head);
  SnrHeadCurves out;
  out.layer = layer;
  out.head = head;
  out.topk.assign(topk.begin(), topk.end());
  out.recall.resize(topk.size());
  out.predicted_recall.resize(topk.size());
  for (size_t b = 0; b < sizes.size(); ++b) {
    const RoutingSummary& s = result.at(layer, head, b);
    out.block_sizes.push_back(static_cast<double>(sizes[b]));
    out.snr_measured.push_back(s.snr_measured);
    for (size_t k = 0; k < topk.size(); ++k) {
      out.recall[k].push_back(s.recall[k]);
      out.predicted_recall[k].push_back(s.predicted_recall[k]);
    }
  }
  std::set<int64_t> grid(sizes.begin(), sizes.end());
  const double low = std::log2(static_cast<double>(sizes.front()));
  const double high = std::log2(static_cast<double>(sizes.back()));
  for (int64_t i = 0; i < kTheoryCurvePoints; ++i) {
    const double u = low + (high - low) * static_cast<double>(i) / (kTheoryCurvePoints - 1);
    grid.insert(std::llround(std::exp2(u)));
  }
  for (const int64_t size : grid) {
    out.theory_block_sizes.push_back(static_cast<double>(size));
    out.snr_theory.push_back(snr_theory(result.delta_mu[slot], result.sigma[slot], size));
  }
  return out;
}

std::vector<SnrHead> snr_curve_heads(const SnrResult& result, int64_t count) {
  std::vector<SnrHead> heads;
  for (int64_t l = 0; l < result.layers; ++l) {
    for (int64_t h = 0; h < result.heads; ++h) heads.push_back({l, h});
  }
  if (count <= 0 || count >= static_cast<int64_t>(heads.size())) return heads;
  const auto snr = [&result](const SnrHead& x) {
    return result.at(x.layer, x.head, 0).snr_measured;
  };
  // NaN (nothing routed) sorts after every number; ties keep layer and head order.
  std::stable_sort(heads.begin(), heads.end(), [&snr](const SnrHead& a, const SnrHead& b) {
    const double sa = snr(a), sb = snr(b);
    if (std::isnan(sb)) return !std::isnan(sa);
    return !std::isnan(sa) && sa > sb;
  });
  heads.resize(static_cast<size_t>(count));
  return heads;
}

}  // namespace headscope
