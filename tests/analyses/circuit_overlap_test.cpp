// Circuit overlap statistics (analyses/circuits/circuit_overlap.h, rank_correlation.h) and head
// selection (circuit.h): hand-made sets with known answers, and values checked against scipy.
//
// The scipy constants were computed once with Debian's scipy 1.10.1 (/usr/bin/python3):
//   i = np.arange(32); x = ((i*7) % 13) + 0.5*(i % 3); y = ((i*5) % 11) + 0.25*(i % 4) + 0.1*x
//   stats.spearmanr(x, y); stats.kendalltau(x, y, method='asymptotic')
//   xt = np.floor(x/3); yt = np.floor(y/4)   # the same with ties
//   stats.hypergeom.sf(2, 32, 6, 6); stats.hypergeom.sf(24, 384, 28, 29)
// Tolerances: rank statistics are exact functions of integer rank sums over <= 32 heads, so the
// correlations agree to a few float64 roundings (1e-12 relative); p-values go through Boost's
// and scipy's incomplete beta / erfc / hypergeometric sums, each accurate to ~1e-15 relative, so
// 1e-10 relative leaves room for either library's method without hiding a wrong formula.
#include <cmath>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "analyses/circuits/circuit.h"
#include "analyses/circuits/circuit_overlap.h"
#include "analyses/circuits/rank_correlation.h"
#include "core/base/error.h"
#include "tests/support/error_message.h"

namespace headscope {
namespace {

using ::testing::HasSubstr;

constexpr double kCorrelationTolerance = 1e-12;
constexpr double kPValueTolerance = 1e-10;

void expect_relative(double actual, double expected, double tolerance, const std::string& what) {
  EXPECT_LE(std::abs(actual - expected), tolerance * std::abs(expected))
      << what << ": " << actual << " vs " << expected;
}

// A 4 x 8 circuit whose selected heads are `heads` (layer-major indices), scored by `scores`
// (zeros when empty).
Circuit circuit_of(const std::vector<int>& heads, std::vector<double> scores = {}) {
  Circuit c;
  c.n_layers = 4;
  c.n_heads = 8;
  c.selected.assign(32, 0);
  for (int h : heads) c.selected[static_cast<size_t>(h)] = 1;
  c.scores = scores.empty() ? std::vector<double>(32, 0.0) : std::move(scores);
  return c;
}

std::vector<double> x_scores() {
  std::vector<double> x;
  for (int i = 0; i < 32; ++i) x.push_back((i * 7) % 13 + 0.5 * (i % 3));
  return x;
}

std::vector<double> y_scores() {
  const std::vector<double> x = x_scores();
  std::vector<double> y;
  for (int i = 0; i < 32; ++i) y.push_back((i * 5) % 11 + 0.25 * (i % 4) + 0.1 * x[i]);
  return y;
}

std::vector<double> floored(const std::vector<double>& values, double step) {
  std::vector<double> out;
  for (double v : values) out.push_back(std::floor(v / step));
  return out;
}

TEST(CircuitOverlap, HandMadeSetsGiveTheirCountsAndRatios) {
  // A = heads 0..5, B = heads 3..7 and 20: 3 shared, 9 in either.
  const CircuitOverlap o =
      circuit_overlap(circuit_of({0, 1, 2, 3, 4, 5}), circuit_of({3, 4, 5, 6, 7, 20}));
  EXPECT_EQ(o.heads, 32);
  EXPECT_EQ(o.size_a, 6);
  EXPECT_EQ(o.size_b, 6);
  EXPECT_EQ(o.intersection, 3);
  EXPECT_EQ(o.union_size, 9);
  EXPECT_DOUBLE_EQ(o.jaccard, 1.0 / 3);
  EXPECT_DOUBLE_EQ(o.overlap_coefficient, 0.5);
  EXPECT_DOUBLE_EQ(o.containment_a, 0.5);
  EXPECT_DOUBLE_EQ(o.containment_b, 0.5);
  EXPECT_DOUBLE_EQ(o.expected_intersection, 36.0 / 32);
  expect_relative(o.hypergeometric_p, 0.062935889965923336, kPValueTolerance, "P(X >= 3)");

  // Containment is asymmetric: B inside A.
  const CircuitOverlap nested = circuit_overlap(circuit_of({0, 1, 2, 3}), circuit_of({1, 2}));
  EXPECT_DOUBLE_EQ(nested.containment_a, 0.5);
  EXPECT_DOUBLE_EQ(nested.containment_b, 1.0);
  EXPECT_DOUBLE_EQ(nested.overlap_coefficient, 1.0);
  EXPECT_DOUBLE_EQ(nested.jaccard, 0.5);
}

TEST(CircuitOverlap, HypergeometricTailMatchesScipyAtGpt2MediumScale) {
  // Merullo et al.'s IOI and colored-objects circuits: 28 and 29 of GPT-2 medium's 384 heads,
  // 25 shared (docs/CIRCUITS.md).
  Circuit a, b;
  a.n_layers = b.n_layers = 24;
  a.n_heads = b.n_heads = 16;
  a.selected.assign(384, 0);
  b.selected.assign(384, 0);
  a.scores.assign(384, 0.0);
  b.scores.assign(384, 0.0);
  for (int h = 0; h < 28; ++h) a.selected[h] = 1;
  for (int h = 3; h < 32; ++h) b.selected[h] = 1;
  const CircuitOverlap o = circuit_overlap(a, b, OverlapOptions().with_permutations(1000));
  EXPECT_EQ(o.intersection, 25);
  expect_relative(o.hypergeometric_p, 6.3983356679189844e-32, kPValueTolerance, "P(X >= 25)");
  // No draw reaches 25: the permutation p-value is its floor, 1 / (1 + draws).
  EXPECT_DOUBLE_EQ(o.permutation_p, 1.0 / 1001);
}

TEST(CircuitOverlap, PermutationBaselineAgreesWithTheHypergeometricOne) {
  const Circuit a = circuit_of({0, 1, 2, 3, 4, 5}), b = circuit_of({3, 4, 5, 6, 7, 20});
  const int64_t draws = 20000;
  const CircuitOverlap o =
      circuit_overlap(a, b, OverlapOptions().with_permutations(draws).with_seed(7));
  // The draws estimate P(X >= 3) and E[X] of the same hypergeometric X: within 5 standard
  // errors, a bound that all but ~1e-6 of seeds meet.
  const double p = o.hypergeometric_p;
  EXPECT_NEAR(o.permutation_p, p, 5 * std::sqrt(p * (1 - p) / draws));
  // Var X = n K/N (N-K)/N (N-n)/(N-1) for K = n = 6 of N = 32.
  const double variance = 6.0 * 6 / 32 * 26 / 32 * 26 / 31;
  EXPECT_NEAR(o.permutation_mean, o.expected_intersection, 5 * std::sqrt(variance / draws));
  // The 95% interval of X, from scipy.stats.hypergeom.ppf([0.025, 0.975], 32, 6, 6): 0 and 3.
  EXPECT_EQ(o.permutation_low, 0);
  EXPECT_EQ(o.permutation_high, 3);

  // Seeded: the same seed gives the same draws.
  const CircuitOverlap again =
      circuit_overlap(a, b, OverlapOptions().with_permutations(draws).with_seed(7));
  EXPECT_EQ(again.permutation_p, o.permutation_p);
  EXPECT_EQ(again.permutation_mean, o.permutation_mean);
  const CircuitOverlap none = circuit_overlap(a, b, OverlapOptions().with_permutations(0));
  EXPECT_TRUE(std::isnan(none.permutation_p));
}

TEST(CircuitOverlap, EmptySetsHaveUndefinedRatiosAndCertainChance) {
  const CircuitOverlap one_empty = circuit_overlap(circuit_of({}), circuit_of({1, 2}));
  EXPECT_EQ(one_empty.intersection, 0);
  EXPECT_EQ(one_empty.union_size, 2);
  EXPECT_DOUBLE_EQ(one_empty.jaccard, 0.0);
  EXPECT_TRUE(std::isnan(one_empty.overlap_coefficient));
  EXPECT_TRUE(std::isnan(one_empty.containment_a));
  EXPECT_DOUBLE_EQ(one_empty.containment_b, 0.0);
  EXPECT_DOUBLE_EQ(one_empty.expected_intersection, 0.0);
  EXPECT_DOUBLE_EQ(one_empty.hypergeometric_p, 1.0);
  EXPECT_DOUBLE_EQ(one_empty.permutation_p, 1.0);

  const CircuitOverlap both_empty = circuit_overlap(circuit_of({}), circuit_of({}));
  EXPECT_TRUE(std::isnan(both_empty.jaccard));
  // Whole sets: the intersection is certain, P(X >= N) = 1.
  std::vector<int> all(32);
  for (int h = 0; h < 32; ++h) all[static_cast<size_t>(h)] = h;
  const CircuitOverlap whole = circuit_overlap(circuit_of(all), circuit_of(all));
  EXPECT_DOUBLE_EQ(whole.jaccard, 1.0);
  EXPECT_DOUBLE_EQ(whole.hypergeometric_p, 1.0);
}

TEST(RankCorrelation, MatchesScipyWithoutAndWithTies) {
  const std::vector<double> x = x_scores(), y = y_scores();
  const Correlation s = spearman(x, y);
  expect_relative(s.value, -0.62906936389867807, kCorrelationTolerance, "spearman");
  expect_relative(s.p_value, 0.00011501303501584057, kPValueTolerance, "spearman p");
  const Correlation k = kendall_tau_b(x, y);
  expect_relative(k.value, -0.63554904393123157, kCorrelationTolerance, "kendall");
  expect_relative(k.p_value, 3.7658536168841107e-07, kPValueTolerance, "kendall p");

  const std::vector<double> xt = floored(x, 3), yt = floored(y, 4);
  const Correlation st = spearman(xt, yt);
  expect_relative(st.value, -0.64663034645271655, kCorrelationTolerance, "spearman ties");
  expect_relative(st.p_value, 6.3711736227608744e-05, kPValueTolerance, "spearman ties p");
  const Correlation kt = kendall_tau_b(xt, yt);
  expect_relative(kt.value, -0.61319056890724555, kCorrelationTolerance, "kendall ties");
  expect_relative(kt.p_value, 6.2280043832061712e-05, kPValueTolerance, "kendall ties p");

  // scipy.stats.rankdata([3, 1, 3, 2, 3, 1]).
  EXPECT_EQ(average_ranks({3, 1, 3, 2, 3, 1}), (std::vector<double>{5, 1.5, 5, 3, 5, 1.5}));
}

TEST(RankCorrelation, UndefinedForAllTiedOrTooFewHeads) {
  const std::vector<double> flat(10, 1.0), rising{1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  EXPECT_TRUE(std::isnan(spearman(flat, rising).value));
  EXPECT_TRUE(std::isnan(kendall_tau_b(flat, rising).value));
  EXPECT_TRUE(std::isnan(kendall_tau_b(flat, rising).p_value));
  EXPECT_TRUE(std::isnan(spearman({1.0}, {2.0}).value));
  const Correlation perfect = spearman(rising, rising);
  EXPECT_DOUBLE_EQ(perfect.value, 1.0);
  EXPECT_DOUBLE_EQ(perfect.p_value, 0.0);
  EXPECT_DOUBLE_EQ(kendall_tau_b(rising, rising).value, 1.0);
}

TEST(CircuitOverlap, RankAgreementUsesHeadsScoredInBoth) {
  std::vector<double> x = x_scores(), y = y_scores();
  x[0] = NAN;
  y[5] = NAN;
  const CircuitOverlap o = circuit_overlap(circuit_of({0}, x), circuit_of({0}, y));
  EXPECT_EQ(o.rank_heads, 30);
  std::vector<double> xs, ys;
  for (size_t h = 0; h < 32; ++h) {
    if (h != 0 && h != 5) xs.push_back(x[h]), ys.push_back(y[h]);
  }
  EXPECT_EQ(o.spearman.value, spearman(xs, ys).value);
  EXPECT_EQ(o.kendall.p_value, kendall_tau_b(xs, ys).p_value);
  // All tied (e.g. circuits without scores): undefined, reported as NaN.
  const CircuitOverlap flat = circuit_overlap(circuit_of({0}), circuit_of({1}));
  EXPECT_TRUE(std::isnan(flat.spearman.value));
  EXPECT_TRUE(std::isnan(flat.kendall.value));
}

TEST(CircuitSelection, TopKAndThresholdPickTheirHeads) {
  const std::vector<double> scores{0.5, -3.0, 2.0, NAN, 2.0, 1.0};
  EXPECT_EQ(select_heads(scores, CircuitSelection::top(2, false), "x"),
            (std::vector<uint8_t>{0, 0, 1, 0, 1, 0}));
  // Ties keep layer-major order: the first 2.0 wins.
  EXPECT_EQ(select_heads(scores, CircuitSelection::top(1, false), "x"),
            (std::vector<uint8_t>{0, 0, 1, 0, 0, 0}));
  EXPECT_EQ(select_heads(scores, CircuitSelection::top(1, true), "x"),
            (std::vector<uint8_t>{0, 1, 0, 0, 0, 0}));
  EXPECT_EQ(select_heads(scores, CircuitSelection::at_least(1.0, false), "x"),
            (std::vector<uint8_t>{0, 0, 1, 0, 1, 1}));
  EXPECT_EQ(select_heads(scores, CircuitSelection::at_least(1.0, true), "x"),
            (std::vector<uint8_t>{0, 1, 1, 0, 1, 1}));
  EXPECT_THAT(test::error_message<InvalidInput>(
                  [&] { select_heads(scores, CircuitSelection::top(6, false), "a.h5:ioi"); }),
              HasSubstr("a.h5:ioi: cannot select the top 6 heads: 5 of 6 heads are scored"));
}

}  // namespace
}  // namespace headscope
