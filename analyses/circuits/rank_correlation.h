// Rank agreement of two score vectors (docs/CIRCUITS.md, "Statistics"): Spearman's rho with the
// t-distribution p-value and Kendall's tau-b with the normal-approximation p-value, both
// two-sided and equal to scipy.stats.spearmanr and kendalltau(method="asymptotic").
#pragma once

#include <vector>

namespace headscope {

struct Correlation {
  double value;    // NaN when undefined: fewer than 2 pairs, or one side all tied
  double p_value;  // NaN when value is, or (Spearman) fewer than 3 pairs
};

// Ranks 1..n, equal values sharing the mean of their ranks.
std::vector<double> average_ranks(const std::vector<double>& values);

// Over pairs (x[i], y[i]); x and y of equal length, without NaN.
Correlation spearman(const std::vector<double>& x, const std::vector<double>& y);
Correlation kendall_tau_b(const std::vector<double>& x, const std::vector<double>& y);

}  // namespace headscope
