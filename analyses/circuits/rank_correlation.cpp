#include "analyses/circuits/rank_correlation.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <utility>

#include <boost/math/distributions/normal.hpp>
#include <boost/math/distributions/students_t.hpp>

#include "core/base/error.h"
#include "core/base/not_a_number.h"

namespace headscope {
namespace {

double pearson(const std::vector<double>& x, const std::vector<double>& y) {
  const double n = static_cast<double>(x.size());
  const double mean_x = std::accumulate(x.begin(), x.end(), 0.0) / n;
  const double mean_y = std::accumulate(y.begin(), y.end(), 0.0) / n;
  double sxy = 0, sxx = 0, syy = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    sxy += (x[i] - mean_x) * (y[i] - mean_y);
    sxx += (x[i] - mean_x) * (x[i] - mean_x);
    syy += (y[i] - mean_y) * (y[i] - mean_y);
  }
  if (sxx == 0 || syy == 0) return kNaN;
  return std::clamp(sxy / std::sqrt(sxx * syy), -1.0, 1.0);
}

// Sums over the groups of equal values of t(t-1)/2, t(t-1)(t-2) and t(t-1)(2t+5): the tie
// terms of tau-b and of its variance.
struct TieSums {
  double pairs = 0, cubic = 0, variance = 0;
};

TieSums tie_sums(const std::vector<double>& values) {
  std::map<double, double> counts;
  for (double v : values) counts[v] += 1;
  TieSums sums;
  for (const auto& [value, t] : counts) {
    sums.pairs += t * (t - 1) / 2;
    sums.cubic += t * (t - 1) * (t - 2);
    sums.variance += t * (t - 1) * (2 * t + 5);
  }
  return sums;
}

}  // namespace

std::vector<double> average_ranks(const std::vector<double>& values) {
  std::vector<size_t> order(values.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return values[a] < values[b]; });
  std::vector<double> ranks(values.size());
  for (size_t begin = 0; begin < order.size();) {
    size_t end = begin + 1;
    while (end < order.size() && values[order[end]] == values[order[begin]]) ++end;
    // Positions begin..end-1 hold ranks begin+1..end: their mean.
    const double rank = (static_cast<double>(begin + 1) + static_cast<double>(end)) / 2;
    for (size_t i = begin; i < end; ++i) ranks[order[i]] = rank;
    begin = end;
  }
  return ranks;
}

Correlation spearman(const std::vector<double>& x, const std::vector<double>& y) {
  HS_ASSERT(x.size() == y.size());
  if (x.size() < 2) return {kNaN, kNaN};
  const double rho = pearson(average_ranks(x), average_ranks(y));
  if (std::isnan(rho) || x.size() < 3) return {rho, kNaN};
  const double df = static_cast<double>(x.size()) - 2;
  if (std::abs(rho) == 1.0) return {rho, 0.0};
  const double t = rho * std::sqrt(df / ((1 - rho) * (1 + rho)));
  const boost::math::students_t_distribution<double> dist(df);
  return {rho, 2 * boost::math::cdf(boost::math::complement(dist, std::abs(t)))};
}

Correlation kendall_tau_b(const std::vector<double>& x, const std::vector<double>& y) {
  HS_ASSERT(x.size() == y.size());
  const size_t n = x.size();
  if (n < 2) return {kNaN, kNaN};
  // sum over pairs of sign(dx) * sign(dy): concordant minus discordant; O(n^2) is a few million
  // steps for the largest models' head counts.
  double concordant_minus_discordant = 0;
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = i + 1; j < n; ++j) {
      const double s = (x[i] < x[j]   ? 1
                        : x[i] > x[j] ? -1
                                      : 0) *
                       (y[i] < y[j]   ? 1
                        : y[i] > y[j] ? -1
                                      : 0);
      concordant_minus_discordant += s;
    }
  }
  const double size = static_cast<double>(n);
  const double total = size * (size - 1) / 2;
  const TieSums tx = tie_sums(x), ty = tie_sums(y);
  if (tx.pairs == total || ty.pairs == total) return {kNaN, kNaN};
  const double tau = std::clamp(
      concordant_minus_discordant / std::sqrt(total - tx.pairs) / std::sqrt(total - ty.pairs), -1.0,
      1.0);
  // The variance of concordant minus discordant under independence, with ties (Kendall 1970;
  // scipy's asymptotic method).
  const double m = size * (size - 1);
  double variance =
      (m * (2 * size + 5) - tx.variance - ty.variance) / 18 + 2 * tx.pairs * ty.pairs / m;
  if (n > 2) variance += tx.cubic * ty.cubic / (9 * m * (size - 2));
  const double z = concordant_minus_discordant / std::sqrt(variance);
  const boost::math::normal_distribution<double> normal;
  return {tau, 2 * boost::math::cdf(boost::math::complement(normal, std::abs(z)))};
}

}  // namespace headscope
