// How much two circuits of one model share (docs/CIRCUITS.md, "Statistics"): the set overlap of
// their selected heads, its chance baselines (the hypergeometric distribution of the
// intersection of two random head sets of the same sizes, and a seeded permutation draw of such
// sets), and the rank agreement of their per-head scores.
#pragma once

#include <cstdint>
#include <vector>

#include "analyses/circuits/circuit.h"
#include "analyses/circuits/rank_correlation.h"

namespace headscope {

struct OverlapOptions {
  int64_t permutations = 10000;  // random set pairs drawn for the permutation baseline (0: none)
  uint64_t seed = 0;
  double interval = 0.95;  // central interval of the permutation intersections

  OverlapOptions& with_permutations(int64_t v) { return permutations = v, *this; }
  OverlapOptions& with_seed(uint64_t v) { return seed = v, *this; }
};

struct CircuitOverlap {
  int64_t heads = 0;  // N
  int64_t size_a = 0, size_b = 0, intersection = 0, union_size = 0;
  // NaN where the denominator is 0 (an empty union, an empty set).
  double jaccard = 0;              // |A∩B| / |A∪B|
  double overlap_coefficient = 0;  // |A∩B| / min(|A|, |B|)
  double containment_a = 0;        // |A∩B| / |A|: the share of A's heads that are in B
  double containment_b = 0;        // |A∩B| / |B|

  // Chance: A and B drawn uniformly among N heads with their sizes.
  double expected_intersection = 0;  // |A||B| / N
  double hypergeometric_p = 0;       // P(X >= |A∩B|), X hypergeometric(N, |A|, |B|)
  double permutation_p = 0;          // (1 + #{draws >= |A∩B|}) / (1 + draws); NaN for no draws
  double permutation_mean = 0;       // mean intersection over the draws
  double permutation_low = 0;        // the interval's ends, in intersection sizes
  double permutation_high = 0;

  // Over the heads scored (not NaN) in both circuits.
  int64_t rank_heads = 0;
  Correlation spearman{0, 0};
  Correlation kendall{0, 0};
};

// The overlap of two circuits of the same head grid (HS_ASSERT: callers check shapes and say
// which inputs differ). Deterministic for a seed: the draws use their own generator.
CircuitOverlap circuit_overlap(const Circuit& a, const Circuit& b,
                               const OverlapOptions& options = {});

}  // namespace headscope
