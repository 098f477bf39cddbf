#include "analyses/circuits/circuit_overlap.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>

#include <boost/math/distributions/hypergeometric.hpp>

#include "core/base/error.h"
#include "core/base/not_a_number.h"

namespace headscope {
namespace {

double ratio(int64_t numerator, int64_t denominator) {
  return denominator == 0 ? kNaN
                          : static_cast<double>(numerator) / static_cast<double>(denominator);
}

// A uniform integer in [0, bound) by rejection: the same draws on every standard library, unlike
// std::uniform_int_distribution.
uint64_t uniform_below(std::mt19937_64& generator, uint64_t bound) {
  const uint64_t limit =
      std::numeric_limits<uint64_t>::max() - std::numeric_limits<uint64_t>::max() % bound;
  uint64_t draw = 0;
  do {
    draw = generator();
  } while (draw >= limit);
  return draw % bound;
}

// P(X >= k) for the intersection X of random sets of sizes a and b among n.
double hypergeometric_tail(int64_t n, int64_t a, int64_t b, int64_t k) {
  // Outside the support [max(0, a + b - n), min(a, b)] Boost raises a domain error.
  if (k <= std::max<int64_t>(0, a + b - n)) return 1.0;
  if (k > std::min(a, b)) return 0.0;
  const boost::math::hypergeometric_distribution<double> dist(
      static_cast<unsigned>(a), static_cast<unsigned>(b), static_cast<unsigned>(n));
  return boost::math::cdf(boost::math::complement(dist, static_cast<unsigned>(k - 1)));
}

// The permutation baseline: B redrawn as a uniform set of its size (A fixed: by symmetry the
// same distribution as redrawing both), a partial Fisher-Yates shuffle per draw.
void permutation_baseline(const Circuit& a, int64_t size_b, int64_t observed,
                          const OverlapOptions& options, CircuitOverlap& out) {
  if (options.permutations == 0) {
    out.permutation_p = out.permutation_mean = out.permutation_low = out.permutation_high = kNaN;
    return;
  }
  std::mt19937_64 generator(options.seed);
  std::vector<size_t> heads(a.selected.size());
  std::iota(heads.begin(), heads.end(), size_t{0});
  std::vector<int64_t> draws(static_cast<size_t>(options.permutations));
  int64_t at_least = 0;
  for (int64_t& draw : draws) {
    int64_t shared = 0;
    for (size_t i = 0; i < static_cast<size_t>(size_b); ++i) {
      const size_t j = i + uniform_below(generator, heads.size() - i);
      std::swap(heads[i], heads[j]);
      shared += a.selected[heads[i]];
    }
    draw = shared;
    at_least += shared >= observed ? 1 : 0;
  }
  out.permutation_p = static_cast<double>(1 + at_least) / static_cast<double>(1 + draws.size());
  out.permutation_mean =
      std::accumulate(draws.begin(), draws.end(), 0.0) / static_cast<double>(draws.size());
  // Nearest-rank quantiles of the sorted draws.
  std::sort(draws.begin(), draws.end());
  const auto quantile = [&](double q) {
    const double rank = std::ceil(q * static_cast<double>(draws.size()));
    const size_t index = static_cast<size_t>(std::max(rank, 1.0)) - 1;
    return static_cast<double>(draws[std::min(index, draws.size() - 1)]);
  };
  const double tail = (1 - options.interval) / 2;
  out.permutation_low = quantile(tail);
  out.permutation_high = quantile(1 - tail);
}

}  // namespace

CircuitOverlap circuit_overlap(const Circuit& a, const Circuit& b, const OverlapOptions& options) {
  HS_ASSERT(a.n_layers == b.n_layers && a.n_heads == b.n_heads &&
            "overlap of circuits of different models");
  HS_ASSERT(a.selected.size() == static_cast<size_t>(a.head_count()) &&
            b.selected.size() == a.selected.size() && a.scores.size() == a.selected.size() &&
            b.scores.size() == a.selected.size());
  HS_ASSERT(options.permutations >= 0 && options.interval > 0 && options.interval < 1);
  CircuitOverlap out;
  out.heads = a.head_count();
  out.size_a = a.selected_count();
  out.size_b = b.selected_count();
  for (size_t head = 0; head < a.selected.size(); ++head) {
    out.intersection += a.selected[head] & b.selected[head];
  }
  out.union_size = out.size_a + out.size_b - out.intersection;
  out.jaccard = ratio(out.intersection, out.union_size);
  out.overlap_coefficient = ratio(out.intersection, std::min(out.size_a, out.size_b));
  out.containment_a = ratio(out.intersection, out.size_a);
  out.containment_b = ratio(out.intersection, out.size_b);

  out.expected_intersection = ratio(out.size_a * out.size_b, out.heads);
  out.hypergeometric_p = hypergeometric_tail(out.heads, out.size_a, out.size_b, out.intersection);
  permutation_baseline(a, out.size_b, out.intersection, options, out);

  std::vector<double> x, y;
  for (size_t head = 0; head < a.scores.size(); ++head) {
    if (!std::isnan(a.scores[head]) && !std::isnan(b.scores[head])) {
      x.push_back(a.scores[head]);
      y.push_back(b.scores[head]);
    }
  }
  out.rank_heads = static_cast<int64_t>(x.size());
  out.spearman = spearman(x, y);
  out.kendall = kendall_tau_b(x, y);
  return out;
}

}  // namespace headscope
