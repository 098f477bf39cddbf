// Floating-point error bounds for tests, derived from what a computation guarantees instead of
// tuned on one machine: BLAS libraries pick their summation order (blocking, vector width, FMA)
// per CPU, so a bound has to hold for any order. N. J. Higham, Accuracy and Stability of
// Numerical Algorithms (2nd ed.), chapters 2-3. docs/DEVELOPING.md "Tolerances" says how to use
// them.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <torch/types.h>

namespace headscope::test::tol {

// Unit roundoff u = 2^-p for p significand bits: the largest relative error of one rounding.
constexpr double kFloat32 = 0x1p-24;
constexpr double kFloat64 = 0x1p-53;
constexpr double kBFloat16 = 0x1p-8;
constexpr double kFloat16 = 0x1p-11;

// u of the precision a float dtype computes in.
inline double unit_roundoff(torch::ScalarType dtype) {
  switch (dtype) {
    case torch::kFloat64: return kFloat64;
    case torch::kFloat32: return kFloat32;
    case torch::kBFloat16: return kBFloat16;
    case torch::kHalf: return kFloat16;
    default: ADD_FAILURE() << "no unit roundoff for " << dtype; return 1.0;
  }
}

// gamma_n = n u / (1 - n u): relative error of n chained roundings, so a sum or dot product of
// n terms in any order errs by at most gamma_n times the sum of the terms' magnitudes (Higham
// Lemma 3.1, eq. 3.5).
inline double gamma(int64_t n, double u) {
  const double nu = static_cast<double>(n) * u;
  if (nu >= 1.0) ADD_FAILURE() << "gamma_" << n << " undefined for u = " << u;
  return nu / (1.0 - nu);
}

// |x| |y| in float64: the terms' magnitudes of the product x y, which gamma_n multiplies to bound
// the error of computing x y in any order (n = x's last dimension).
inline torch::Tensor abs_matmul(const torch::Tensor& x, const torch::Tensor& y) {
  return torch::matmul(x.to(torch::kCPU, torch::kFloat64).abs(),
                       y.to(torch::kCPU, torch::kFloat64).abs());
}

// Passes when |actual - expected| <= bound elementwise (bound broadcasts; NaN fails). The
// message names the worst element as error / bound. With HEADSCOPE_TOLERANCE_REPORT set, every
// call prints its largest error / bound ratio, to see how much room a bound leaves.
inline ::testing::AssertionResult within(const torch::Tensor& actual, const torch::Tensor& expected,
                                         const torch::Tensor& bound, const std::string& what) {
  auto err = (actual.to(torch::kCPU, torch::kFloat64) - expected.to(torch::kCPU, torch::kFloat64))
                 .abs();
  auto b = bound.to(torch::kCPU, torch::kFloat64).expand_as(err);
  // Zero bounds demand exact equality; NaN errors count as infinitely large.
  const auto huge = torch::full_like(err, 1e300);
  auto ratio = torch::where(b > 0, err / b, torch::where(err > 0, huge, torch::zeros_like(err)));
  ratio = torch::where(err.isnan(), huge, ratio);
  const int64_t worst = ratio.numel() == 0 ? -1 : ratio.flatten().argmax().item<int64_t>();
  const double r = worst < 0 ? 0.0 : ratio.flatten()[worst].item<double>();
  if (std::getenv("HEADSCOPE_TOLERANCE_REPORT") != nullptr) {
    const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
    std::fprintf(stderr, "tolerance %s.%s %s: error/bound %.3g\n", test->test_suite_name(),
                 test->name(), what.c_str(), r);
  }
  if (r <= 1.0) return ::testing::AssertionSuccess();
  std::ostringstream os;
  os << what << ": error " << err.flatten()[worst].item<double>() << " exceeds bound "
     << b.flatten()[worst].item<double>() << " (ratio " << r << ") at flat index " << worst;
  return ::testing::AssertionFailure() << os.str();
}

inline ::testing::AssertionResult within(const torch::Tensor& actual, const torch::Tensor& expected,
                                         double bound, const std::string& what) {
  return within(actual, expected, torch::scalar_tensor(bound, torch::kFloat64), what);
}

// Scalar form, for analyses that return doubles.
inline ::testing::AssertionResult within(double actual, double expected, double bound,
                                         const std::string& what) {
  return within(torch::scalar_tensor(actual, torch::kFloat64),
                torch::scalar_tensor(expected, torch::kFloat64), bound, what);
}

}  // namespace headscope::test::tol
