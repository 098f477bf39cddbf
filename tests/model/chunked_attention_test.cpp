// The chunked causal attention (the CPU forward's attention without a fused kernel) against
// the exact attention in float64, within float32 rounding bounds (tests/support/
// attention_bounds.h): chunks that do not divide the queries, queries after cached keys, and a
// sliding window, the cases its masking (only the diagonal block without a window) must get right.
#include <gtest/gtest.h>

#include <optional>

#include "core/model/chunked_attention.h"
#include "tests/support/attention_bounds.h"

namespace headscope {
namespace {

namespace tol = test::tol;

// Query i (at position offset + i) sees key j when j <= offset + i (and j > offset + i - window).
torch::Tensor allowed_keys(int64_t queries, int64_t keys, int64_t offset,
                           std::optional<int64_t> window) {
  auto i = torch::arange(queries).unsqueeze(1) + offset, j = torch::arange(keys).unsqueeze(0);
  auto allowed = j <= i;
  if (window) allowed = allowed.logical_and(j > i - *window);
  return allowed;
}

void check_chunked(int64_t queries, int64_t keys, std::optional<int64_t> window, int64_t chunk) {
  torch::manual_seed(17);
  const int64_t offset = keys - queries;
  const double scale = 0.3;
  auto q = torch::randn({1, 3, queries, 16});
  auto k = torch::randn({1, 3, keys, 16});
  auto v = torch::randn({1, 3, keys, 16});
  auto z = chunked_causal_attention(q, k, v, offset, window, scale, chunk);
  auto allowed = allowed_keys(queries, keys, offset, window);
  const auto f32 = tol::attention_bounds(q, k, scale, allowed, tol::kFloat32);
  const auto f64 = tol::attention_bounds(q, k, scale, allowed, tol::kFloat64);
  auto exact = torch::matmul(f64.probs, v.to(torch::kFloat64));
  EXPECT_TRUE(tol::within(z, exact, f32.attend(v) + f64.attend(v), "z"));
  // The bound is tight enough to see one key too many: the same without the window's edge.
  if (window) {
    const auto wider = tol::attention_bounds(
        q, k, scale, allowed_keys(queries, keys, offset, *window + 1), tol::kFloat64);
    EXPECT_FALSE(tol::within(z, torch::matmul(wider.probs, v.to(torch::kFloat64)),
                             f32.attend(v) + f64.attend(v), "z, window + 1"));
  }
}

TEST(ChunkedAttention, WholeSequenceInUnevenChunks) {
  check_chunked(300, 300, std::nullopt, 64);
}

TEST(ChunkedAttention, QueriesAfterCachedKeys) {
  check_chunked(70, 250, std::nullopt, 32);
}

TEST(ChunkedAttention, SlidingWindow) {
  check_chunked(200, 260, 50, 64);
}

TEST(ChunkedAttention, ChunkLargerThanQueries) {
  check_chunked(20, 20, std::nullopt, 256);
}

}  // namespace
}  // namespace headscope
