#include "analyses/snr/routing_theory.h"

#include <cmath>
#include <limits>

#include <boost/math/distributions/binomial.hpp>
#include <boost/math/distributions/normal.hpp>

#include "core/base/error.h"

namespace headscope {
namespace {

constexpr double kZRange = 8.0;
constexpr int kIntervals = 800;  // even, for Simpson's rule

}  // namespace

double snr_theory(double delta_mu, double sigma, int64_t block_size) {
  HS_ASSERT(block_size >= 1);
  if (!(sigma > 0.0)) return std::numeric_limits<double>::quiet_NaN();
  return delta_mu / (sigma * std::sqrt(2.0 * static_cast<double>(block_size)));
}

double pairwise_error_probability(double snr) {
  if (std::isnan(snr)) return snr;
  return boost::math::cdf(boost::math::normal_distribution<double>(), -snr);
}

double predicted_recall(double snr, int64_t noise_blocks, int64_t k) {
  HS_ASSERT(noise_blocks >= 1 && k >= 1);
  if (std::isnan(snr)) return snr;
  if (k > noise_blocks) return 1.0;
  const boost::math::normal_distribution<double> normal;
  const double t = std::sqrt(2.0) * snr;
  const double h = 2.0 * kZRange / kIntervals;
  double sum = 0.0;
  for (int i = 0; i <= kIntervals; ++i) {
    const double z = -kZRange + h * i;
    const double p = boost::math::cdf(normal, -t - z);
    const boost::math::binomial_distribution<double> above(static_cast<double>(noise_blocks), p);
    const double weight = (i == 0 || i == kIntervals) ? 1.0 : (i % 2 == 1 ? 4.0 : 2.0);
    sum +=
        weight * boost::math::pdf(normal, z) * boost::math::cdf(above, static_cast<double>(k - 1));
  }
  return sum * h / 3.0;
}

}  // namespace headscope
