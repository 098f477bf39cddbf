// The block-routing SNR estimator (analyses/snr/) on keys where the truth is known: small score
// vectors worked by hand, and i.i.d. Gaussian keys with one planted relevant key, where the
// Gaussian model of docs/SNR.md holds exactly, so the measured SNR, pairwise error and recall@k
// must agree with the formula, Φ(-SNR) and the order-statistics prediction within sampling error
// (5 standard errors of the simulated quantity, estimated from the same samples).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "analyses/snr/block_routing.h"
#include "analyses/snr/routing_summary.h"
#include "analyses/snr/routing_theory.h"

namespace headscope {
namespace {

double normal_cdf(double x) {
  return 0.5 * std::erfc(-x / std::sqrt(2.0));
}

// Mean and its standard error of a sample.
struct MeanSe {
  double mean = 0.0, se = 0.0;
};

MeanSe mean_se(const std::vector<double>& v) {
  double sum = 0.0, sq = 0.0;
  for (const double x : v) sum += x;
  const double mean = sum / static_cast<double>(v.size());
  for (const double x : v) sq += (x - mean) * (x - mean);
  const double var = sq / static_cast<double>(v.size() - 1);
  return {mean, std::sqrt(var / static_cast<double>(v.size()))};
}

TEST(BlockRouting, HandWorkedScores) {
  // Position 9, B = 4: blocks [0,4) [4,8) routed, [8,10) is the query's own.
  const std::vector<double> scores = {0, 1, 0, 1, 5, 0, 0, 3, 9, 9};
  const BlockLevel b = block_level(scores, {4}, {4, 1});
  ASSERT_TRUE(b.routed);
  EXPECT_FALSE(b.in_current_block);
  EXPECT_EQ(b.noise_blocks, 1);
  EXPECT_EQ(b.above, 0);                  // 2.0 against 0.5: the high keys 8, 9 are not routed
  EXPECT_DOUBLE_EQ(b.delta_mu_eff, 1.5);  // means are exact in binary here
  EXPECT_FALSE(b.has_block_var);

  // Relevant key 1 in block 0, which loses to block 1.
  const BlockLevel lost = block_level(scores, {1}, {4, 1});
  EXPECT_EQ(lost.above, 1);
  EXPECT_DOUBLE_EQ(lost.delta_mu_eff, 0.5 - 2.0);

  // Relevant key in the query's own block: attended anyway, not routed.
  const BlockLevel own = block_level(scores, {8}, {4, 1});
  EXPECT_FALSE(own.routed);
  EXPECT_TRUE(own.in_current_block);
  EXPECT_FALSE(routable(9, {8}, {4, 1}));

  // Two relevant keys in different blocks: the better block counts, no noise block is left.
  EXPECT_FALSE(block_level(scores, {1, 4}, {4, 1}).routed);
  // B = 2 at position 9: four routed blocks; relevant keys 1 and 7 mark blocks 0 and 3, the
  // best of them (block 3, mean 1.5) against blocks 1 (0.5) and 2 (2.5).
  const BlockLevel two = block_level(scores, {1, 7}, {2, 1});
  ASSERT_TRUE(two.routed);
  EXPECT_EQ(two.noise_blocks, 2);
  EXPECT_EQ(two.above, 1);
  EXPECT_DOUBLE_EQ(two.delta_mu_eff, 1.5 - 1.5);
  EXPECT_DOUBLE_EQ(two.block_var, 2.0);  // (0.5 - 1.5)^2 + (2.5 - 1.5)^2 over n - 1 = 1

  // Key convolution W = 2: the smoothed key 4 lifts key 5 too; key 3 (last of block 0) lifts
  // key 4, so block 1 becomes relevant as well.
  // Both routed blocks then carry its signal and none is left to compare.
  EXPECT_FALSE(block_level(scores, {3}, {4, 2}).routed);
  EXPECT_FALSE(routable(9, {3}, {4, 2}));
  EXPECT_TRUE(routable(9, {3}, {4, 1}));
}

TEST(BlockRouting, KeyConvolutionSmoothsBeforePooling) {
  // Position 12, B = 4, W = 2: smoothed keys s'_j = (s_{j-1} + s_j) / 2, s'_0 = s_0.
  const std::vector<double> scores = {2, 0, 0, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0};
  const BlockLevel b = block_level(scores, {6}, {4, 2});
  ASSERT_TRUE(b.routed);
  // Block 1 = {s'_4..s'_7} = {0, 0, 4, 4}: 2. Block 0 = {2, 1, 0, 0}: 0.75. Block 2 = 0.
  EXPECT_EQ(b.noise_blocks, 2);
  EXPECT_DOUBLE_EQ(b.delta_mu_eff, 2.0 - 0.375);
  EXPECT_EQ(b.above, 0);
}

TEST(BlockRouting, KeyLevelGap) {
  const std::vector<double> scores = {1, 3, 5, 10};
  const KeyLevel k = key_level(scores, {3});
  ASSERT_TRUE(k.valid);
  EXPECT_DOUBLE_EQ(k.delta_mu, 10.0 - 3.0);
  EXPECT_DOUBLE_EQ(k.noise_var, 4.0);  // (4 + 0 + 4) / 2
  EXPECT_FALSE(key_level({1, 2}, {1}).valid);
}

TEST(RoutingTheory, FormulaAndLimits) {
  // Unit vectors in d dimensions: σ = 1/sqrt(d) gives the paper's Δμ · sqrt(d / 2B).
  const double d = 128.0, delta = 0.3;
  EXPECT_NEAR(snr_theory(delta, 1.0 / std::sqrt(d), 32), delta * std::sqrt(d / 64.0), 1e-12);
  EXPECT_TRUE(std::isnan(snr_theory(1.0, 0.0, 16)));
  EXPECT_NEAR(pairwise_error_probability(1.0), normal_cdf(-1.0), 1e-15);
  // No signal: the relevant block and n noise blocks are exchangeable, P(rank <= k) = k/(n+1).
  // Simpson's rule on a smooth integrand with 800 intervals: error far under 1e-8.
  for (const int64_t n : {1, 7, 31}) {
    for (const int64_t k : {1, 2, 4}) {
      if (k > n) continue;
      EXPECT_NEAR(predicted_recall(0.0, n, k), static_cast<double>(k) / (n + 1), 1e-8)
          << n << " " << k;
    }
  }
  EXPECT_EQ(predicted_recall(0.5, 3, 4), 1.0);
  EXPECT_NEAR(predicted_recall(6.0, 10, 1), 1.0, 1e-6);
  // One noise block: recall@1 is one minus the pairwise error.
  EXPECT_NEAR(predicted_recall(0.8, 1, 1), 1.0 - normal_cdf(-0.8), 1e-8);
}

// d-dimensional keys k ~ N(0, I), a query of norm sqrt(d) and scale 1/sqrt(d): every noise score
// is N(0, 1), so σ = 1; the relevant key gets Δμ added along the query.
class PlantedSignal : public ::testing::Test {
 protected:
  static constexpr int64_t kDim = 64;
  static constexpr int64_t kPosition = 528;  // 529 causal keys
  static constexpr int kQueries = 2000;

  // Scores of one query whose relevant key is `relevant`, computed from the vectors.
  std::vector<double> scores(std::mt19937_64& rng, int64_t relevant, double delta_mu) {
    std::normal_distribution<double> normal;
    std::vector<double> q(kDim);
    double norm = 0.0;
    for (double& x : q) {
      x = normal(rng);
      norm += x * x;
    }
    for (double& x : q) x *= std::sqrt(kDim / norm);
    const double scale = 1.0 / std::sqrt(static_cast<double>(kDim));
    std::vector<double> out(kPosition + 1);
    std::vector<double> key(kDim);
    for (int64_t j = 0; j <= kPosition; ++j) {
      for (double& x : key) x = normal(rng);
      if (j == relevant) {
        // + Δμ · q / (|q|² · scale): adds exactly Δμ to the scaled score.
        for (int64_t i = 0; i < kDim; ++i) key[i] += delta_mu * q[i] / (kDim * scale);
      }
      double dot = 0.0;
      for (int64_t i = 0; i < kDim; ++i) dot += q[i] * key[i];
      out[static_cast<size_t>(j)] = dot * scale;
    }
    return out;
  }
};

TEST_F(PlantedSignal, MeasuredSnrErrorAndRecallMatchTheModel) {
  const std::vector<int64_t> block_sizes = {8, 16, 64};
  const std::vector<int64_t> topk = {1, 2, 4, 8};
  // Δμ chosen so that SNR_theory(16) = 1.5.
  const double delta_mu = 1.5 * std::sqrt(2.0 * 16);
  std::mt19937_64 rng(20261205);
  // The relevant key anywhere in the routed keys of the largest block size.
  std::uniform_int_distribution<int64_t> where(0, (kPosition / 64) * 64 - 1);

  KeyAccumulator keys;
  std::vector<double> gaps, variances;
  std::vector<BlockAccumulator> blocks(block_sizes.size());
  std::vector<std::vector<double>> eff(block_sizes.size()), pair(block_sizes.size()),
      bvar(block_sizes.size());
  std::vector<std::vector<std::vector<double>>> hit(block_sizes.size(),
                                                    std::vector<std::vector<double>>(topk.size()));
  std::vector<int64_t> noise_blocks(block_sizes.size());
  for (int i = 0; i < kQueries; ++i) {
    const std::vector<int64_t> relevant = {where(rng)};
    const std::vector<double> s = scores(rng, relevant[0], delta_mu);
    const KeyLevel k = key_level(s, relevant);
    keys.add(k);
    gaps.push_back(k.delta_mu);
    variances.push_back(k.noise_var);
    for (size_t b = 0; b < block_sizes.size(); ++b) {
      const BlockLevel level = block_level(s, relevant, {block_sizes[b], 1});
      ASSERT_TRUE(level.routed);
      blocks[b].add(level);
      eff[b].push_back(level.delta_mu_eff);
      bvar[b].push_back(level.block_var);
      pair[b].push_back(static_cast<double>(level.above) / level.noise_blocks);
      noise_blocks[b] = level.noise_blocks;
      for (size_t j = 0; j < topk.size(); ++j) hit[b][j].push_back(level.above < topk[j] ? 1 : 0);
    }
  }

  // Key level: Δμ and σ = 1 (σ from the pooled variance; its se by the delta method).
  const MeanSe gap = mean_se(gaps), var = mean_se(variances);
  EXPECT_NEAR(keys.delta_mu(), delta_mu, 5 * gap.se);
  EXPECT_NEAR(keys.sigma(), 1.0, 5 * var.se / 2);

  for (size_t b = 0; b < block_sizes.size(); ++b) {
    const int64_t size = block_sizes[b];
    SCOPED_TRACE("B = " + std::to_string(size));
    const RoutingSummary s = blocks[b].summary(topk);
    const double theory = snr_theory(delta_mu, 1.0, size);
    EXPECT_EQ(s.routed, kQueries);
    // Δμ_eff = Δμ / B, σ_block = σ / sqrt(B).
    const MeanSe e = mean_se(eff[b]), v = mean_se(bvar[b]);
    EXPECT_NEAR(s.delta_mu_eff, delta_mu / size, 5 * e.se);
    const double sigma_block = 1.0 / std::sqrt(static_cast<double>(size));
    EXPECT_NEAR(s.sigma_block, sigma_block, 5 * v.se / (2 * sigma_block));
    // The measured SNR (delta method: relative errors of Δμ_eff and σ_block add in quadrature).
    const double snr_se =
        theory * std::hypot(e.se / (delta_mu / size), v.se / (2 * sigma_block * sigma_block));
    EXPECT_NEAR(s.snr_measured, theory, 5 * snr_se);
    // The bound is tight enough to catch a missing sqrt(2) (the bare Δμ_eff / σ_block).
    EXPECT_GT((std::sqrt(2.0) - 1.0) * theory, 2 * 5 * snr_se);
    // Pairwise error against Φ(-SNR_theory).
    const MeanSe p = mean_se(pair[b]);
    EXPECT_NEAR(s.pairwise_error, normal_cdf(-theory), 5 * p.se);
    // Recall@k against the order-statistics prediction (binomial standard error).
    for (size_t j = 0; j < topk.size(); ++j) {
      const double predicted = predicted_recall(theory, noise_blocks[b], topk[j]);
      const double se = std::sqrt(predicted * (1 - predicted) / kQueries);
      EXPECT_NEAR(s.recall[j], predicted, std::max(5 * se, 5.0 / kQueries)) << "k = " << topk[j];
      EXPECT_NEAR(mean_se(hit[b][j]).mean, s.recall[j], 1e-12);
    }
    EXPECT_NEAR(s.mean_rank, 1.0 + s.pairwise_error * noise_blocks[b], 1e-9);
  }
}

}  // namespace
}  // namespace headscope
