// The points `snr --curves-png` plots: each head's measured SNR and recall@k exactly as the
// result holds them, the theory curve from the head's Δμ and σ through the result's snr_theory
// at the measured block sizes, and the heads chosen by measured SNR.
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "analyses/snr/routing_theory.h"
#include "analyses/snr/snr_head_curves.h"

namespace headscope {
namespace {

// 2 layers x 3 heads, block sizes 8, 16, 64 and k = 1, 2, every number distinct and traceable:
// the measured SNR of (layer, head, block) is 10 * slot + block, recall 0.1 * k + 0.01 * block.
SnrResult result() {
  SnrResult r;
  r.layers = 2, r.heads = 3, r.kv_heads = 3;
  r.options.block_sizes = {8, 16, 64};
  r.options.topk = {1, 2};
  for (int64_t slot = 0; slot < 6; ++slot) {
    r.delta_mu.push_back(1.0 + static_cast<double>(slot));
    r.sigma.push_back(0.5 + 0.25 * static_cast<double>(slot));
    for (size_t b = 0; b < 3; ++b) {
      RoutingSummary s;
      s.routed = 5;
      s.snr_measured = 10.0 * static_cast<double>(slot) + static_cast<double>(b);
      for (size_t k = 0; k < 2; ++k) {
        s.recall.push_back(0.1 * static_cast<double>(k + 1) + 0.01 * static_cast<double>(b));
        s.predicted_recall.push_back(s.recall.back() + 0.5);
      }
      r.summaries.push_back(s);
      r.snr_theory.push_back(
          snr_theory(r.delta_mu.back(), r.sigma.back(), r.options.block_sizes[b]));
    }
  }
  return r;
}

TEST(SnrHeadCurves, PointsAreTheResultsAndTheTheoryCurvePassesThroughItsSnrTheory) {
  const SnrResult r = result();
  for (int64_t l = 0; l < r.layers; ++l) {
    for (int64_t h = 0; h < r.heads; ++h) {
      const SnrHeadCurves c = snr_head_curves(r, l, h);
      const auto slot = static_cast<size_t>(l * r.heads + h);
      EXPECT_EQ(c.layer, l);
      EXPECT_EQ(c.head, h);
      EXPECT_EQ(c.block_sizes, (std::vector<double>{8, 16, 64}));
      EXPECT_EQ(c.topk, (std::vector<double>{1, 2}));
      ASSERT_EQ(c.snr_measured.size(), 3u);
      ASSERT_EQ(c.recall.size(), 2u);
      for (size_t b = 0; b < 3; ++b) {
        EXPECT_EQ(c.snr_measured[b], r.at(l, h, b).snr_measured);
        for (size_t k = 0; k < 2; ++k) {
          EXPECT_EQ(c.recall[k][b], r.at(l, h, b).recall[k]);
          EXPECT_EQ(c.predicted_recall[k][b], r.at(l, h, b).predicted_recall[k]);
        }
      }
      // From 8 to 64, increasing, the measured sizes among them, at most the curve's points
      // plus the measured sizes; there it is the result's snr_theory, elsewhere the formula.
      ASSERT_EQ(c.theory_block_sizes.size(), c.snr_theory.size());
      EXPECT_EQ(c.theory_block_sizes.front(), 8.0);
      EXPECT_EQ(c.theory_block_sizes.back(), 64.0);
      EXPECT_GE(c.theory_block_sizes.size(), 10u);
      EXPECT_LE(c.theory_block_sizes.size(), static_cast<size_t>(kTheoryCurvePoints) + 3);
      size_t measured = 0;
      for (size_t i = 0; i < c.theory_block_sizes.size(); ++i) {
        if (i > 0) {
          EXPECT_GT(c.theory_block_sizes[i], c.theory_block_sizes[i - 1]);
          EXPECT_LT(c.snr_theory[i], c.snr_theory[i - 1]);  // falls as 1/sqrt(B)
        }
        const double size = c.theory_block_sizes[i];
        EXPECT_DOUBLE_EQ(c.snr_theory[i],
                         r.delta_mu[slot] / (r.sigma[slot] * std::sqrt(2.0 * size)));
        for (size_t b = 0; b < 3; ++b) {
          if (size == c.block_sizes[b]) {
            EXPECT_EQ(c.snr_theory[i], r.snr_theory[slot * 3 + b]);
            ++measured;
          }
        }
      }
      EXPECT_EQ(measured, 3u);
    }
  }
}

TEST(SnrHeadCurves, HeadsByMeasuredSnrAtTheSmallestBlockNothingRoutedLast) {
  SnrResult r = result();
  // Head 0.1 routed nothing at B = 8; 1.0 ties 0.2 (layer and head order keeps 0.2 first).
  r.summaries[(0 * 3 + 1) * 3].snr_measured = NAN;
  r.summaries[(1 * 3 + 0) * 3].snr_measured = r.summaries[(0 * 3 + 2) * 3].snr_measured;
  const std::vector<SnrHead> top = snr_curve_heads(r, 4);
  EXPECT_EQ(top, (std::vector<SnrHead>{{1, 2}, {1, 1}, {0, 2}, {1, 0}}));
  const std::vector<SnrHead> all = snr_curve_heads(r, 6);
  ASSERT_EQ(all.size(), 6u);
  EXPECT_EQ(all.front(), (SnrHead{0, 0}));
  EXPECT_EQ(all.back(), (SnrHead{1, 2}));
  EXPECT_EQ(snr_curve_heads(r, 0), all);
  EXPECT_EQ(snr_curve_heads(r, 5).back(), (SnrHead{0, 0}));
}

}  // namespace
}  // namespace headscope
