// The chunked statistics, and the CPU path's attention output and normalisers made with them,
// against a plain computation from the full probability matrix in float64, within bounds derived
// from float32 rounding (tests/support/attention_bounds.h).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>

#include "core/base/error.h"
#include "kernels/attention_stats.h"
#include "kernels/attention_stats_backends.h"
#include "tests/support/attention_bounds.h"

namespace headscope {
namespace {

namespace tol = test::tol;

torch::Tensor allowed_keys(int64_t seq, const AttentionStatsOptions& o) {
  auto i = torch::arange(seq).unsqueeze(1), j = torch::arange(seq).unsqueeze(0);
  auto allowed = j <= i;
  if (o.sliding_window) allowed = allowed.logical_and(j > i - *o.sliding_window);
  return allowed;
}

// The statistics computed in float32 (as attention_stats does) against the exact ones: the
// float32 bound plus the float64 reference's own (the same formulas with u = 2^-53).
struct StatBounds {
  tol::AttentionBounds f32, f64;
  torch::Tensor mass(const torch::Tensor& keys) const { return f32.mass(keys) + f64.mass(keys); }
  torch::Tensor top() const { return f32.top() + f64.top(); }
  torch::Tensor entropy() const { return f32.entropy() + f64.entropy(); }
  torch::Tensor block_mass(int64_t b) const { return f32.block_mass(b) + f64.block_mass(b); }
};

StatBounds stat_bounds(const torch::Tensor& q, const torch::Tensor& k,
                       const AttentionStatsOptions& o) {
  auto allowed = allowed_keys(q.size(1), o);
  return {tol::attention_bounds(q, k, o.scale, allowed, tol::kFloat32),
          tol::attention_bounds(q, k, o.scale, allowed, tol::kFloat64)};
}

// Every statistic from the full float64 probability matrix p [H, T, T].
struct Exact {
  torch::Tensor entropy, sink_mass, local_mass, max_prob, topk_prob, block_mass;
};

torch::Tensor sink_keys(int64_t seq, int64_t sink) {
  return torch::arange(seq).view({1, 1, seq}) < sink;
}

torch::Tensor local_keys(int64_t seq, int64_t window) {
  return torch::arange(seq).view({1, 1, seq}) > torch::arange(seq).view({1, seq, 1}) - window;
}

Exact exact_stats(const torch::Tensor& p, const AttentionStatsOptions& o) {
  const int64_t heads = p.size(0), seq = p.size(1);
  Exact e;
  e.entropy = -(p * torch::where(p > 0, p.log(), torch::zeros_like(p))).sum(-1);
  e.sink_mass = (p * sink_keys(seq, o.sink)).sum(-1);
  e.local_mass = (p * local_keys(seq, o.window)).sum(-1);
  e.topk_prob = std::get<0>(p.topk(std::min(o.topk, seq), -1));
  e.max_prob = e.topk_prob.select(-1, 0);
  const int64_t b = o.block_size, nb = (seq + b - 1) / b;
  e.block_mass = torch::zeros({heads, nb, nb}, torch::kFloat64);
  for (int64_t qa = 0; qa < nb; ++qa) {
    for (int64_t kb = 0; kb < nb; ++kb) {
      const int64_t q0 = qa * b, q1 = std::min(seq, q0 + b), k0 = kb * b,
                    k1 = std::min(seq, k0 + b);
      e.block_mass.select(1, qa).select(1, kb).copy_(
          p.narrow(1, q0, q1 - q0).narrow(2, k0, k1 - k0).sum(-1).mean(-1));
    }
  }
  return e;
}

// The probability found at each reported key (0 where the slot holds -1).
torch::Tensor at_indices(const torch::Tensor& p, const torch::Tensor& index) {
  auto idx = index.to(torch::kInt64);
  return p.gather(-1, idx.clamp_min(0)).masked_fill(idx < 0, 0.0);
}

void check_against_reference(const torch::Tensor& q, const torch::Tensor& k,
                             const AttentionStatsOptions& o) {
  auto stats = attention_stats(q, k, o);
  const auto bound = stat_bounds(q, k, o);
  const auto& p = bound.f64.probs;
  const auto e = exact_stats(p, o);
  const int64_t seq = q.size(1), heads = q.size(0), topk = std::min(o.topk, seq);
  EXPECT_TRUE(tol::within(stats.entropy, e.entropy, bound.entropy(), "entropy"));
  EXPECT_TRUE(
      tol::within(stats.sink_mass, e.sink_mass, bound.mass(sink_keys(seq, o.sink)), "sink_mass"));
  const auto local_bound = bound.mass(local_keys(seq, o.window));
  EXPECT_TRUE(tol::within(stats.local_mass, e.local_mass, local_bound, "local_mass"));
  // The bound is tight enough to see a window off by one (where the window is not wider than the
  // model's sliding window, which would hide it).
  if (!o.sliding_window || o.window <= *o.sliding_window) {
    EXPECT_FALSE(tol::within(stats.local_mass, (p * local_keys(seq, o.window - 1)).sum(-1),
                             local_bound, "local_mass, window - 1"));
  }
  const auto top = bound.top();
  EXPECT_TRUE(tol::within(stats.max_prob, e.max_prob, top, "max_prob"));
  // argmax points at a key holding the maximum up to the errors of two probabilities.
  auto at_argmax = at_indices(p, stats.argmax.unsqueeze(-1)).squeeze(-1);
  EXPECT_TRUE(tol::within(at_argmax, e.max_prob, 2 * top, "p at argmax"));
  auto reported = stats.topk_prob.narrow(-1, 0, topk);
  auto reported_index = stats.topk_index.narrow(-1, 0, topk);
  EXPECT_TRUE(tol::within(reported.masked_fill(reported_index < 0, 0.0), e.topk_prob,
                          top.unsqueeze(-1), "topk_prob"));
  // Indices: the exact probability at each reported key is the reported probability.
  EXPECT_TRUE(tol::within(at_indices(p, stats.topk_index), stats.topk_prob, top.unsqueeze(-1),
                          "p at topk_index"));
  // Query i has i + 1 allowed keys (no sliding window here): slots past them are -1.
  if (!o.sliding_window && o.topk > 1) {
    EXPECT_EQ(stats.topk_index[0][0][1].item<int>(), -1);
    EXPECT_EQ(stats.topk_prob[0][0][1].item<float>(), 0.0f);
  }
  const auto block_bound = bound.block_mass(o.block_size);
  EXPECT_TRUE(tol::within(stats.block_mass, e.block_mass, block_bound, "block_mass"));
  // Each query block's masses sum to 1: the entries' bounds plus the sum of nb terms.
  const int64_t nb = e.block_mass.size(-1);
  EXPECT_TRUE(tol::within(stats.block_mass.sum(-1), torch::ones({heads, nb}),
                          block_bound.sum(-1) + tol::gamma(nb, tol::kFloat32),
                          "block_mass row sums"));
  // A 0.1% error in the scale (a wrong head_dim in 1/sqrt(d) is far larger) fails the bound.
  const auto skewed = exact_stats(
      tol::attention_bounds(q, k, o.scale * 1.001, allowed_keys(seq, o), tol::kFloat64).probs, o);
  EXPECT_FALSE(tol::within(stats.entropy, skewed.entropy, bound.entropy(), "entropy, scale"));
}

TEST(AttentionStats, MatchesFullMatrixAcrossChunksAndPartialBlocks) {
  torch::manual_seed(1);
  auto q = torch::randn({4, 150, 16}) * 2;
  auto k = torch::randn({4, 150, 16});
  check_against_reference(q, k,
                          AttentionStatsOptions()
                              .with_scale(0.25)
                              .with_block_size(16)
                              .with_chunk(32)
                              .with_window(10)
                              .with_sink(3)
                              .with_topk(5));
}

TEST(AttentionStats, GroupedQueryHeadsAndSlidingWindow) {
  torch::manual_seed(2);
  auto q = torch::randn({6, 97, 8});
  auto k = torch::randn({2, 97, 8});
  check_against_reference(q, k,
                          AttentionStatsOptions()
                              .with_scale(0.35)
                              .with_block_size(32)
                              .with_chunk(64)
                              .with_sliding_window(20)
                              .with_topk(4));
}

// Chunks change the shapes of the products and sums, so their summation order: two float32
// results agree within the sum of their bounds, whatever order the BLAS kernels use.
TEST(AttentionStats, ChunkSizeDoesNotChangeResults) {
  torch::manual_seed(3);
  auto q = torch::randn({2, 200, 16});
  auto k = torch::randn({2, 200, 16});
  const auto o = AttentionStatsOptions().with_block_size(16);
  auto a = attention_stats(q, k, AttentionStatsOptions(o).with_chunk(64));
  auto b = attention_stats(q, k, AttentionStatsOptions(o).with_chunk(256));
  const auto bound = tol::attention_bounds(q, k, o.scale, allowed_keys(200, o), tol::kFloat32);
  EXPECT_TRUE(tol::within(a.entropy, b.entropy, 2 * bound.entropy(), "entropy"));
  EXPECT_TRUE(tol::within(a.block_mass, b.block_mass, 2 * bound.block_mass(16), "block_mass"));
  EXPECT_TRUE(tol::within(a.topk_prob, b.topk_prob, 2 * bound.top().unsqueeze(-1), "topk_prob"));
  // Near-ties may swap places: where the keys differ, their exact probabilities are within the
  // error of the two rankings (each reported value within `top` of its key's and of the exact
  // r-th largest).
  EXPECT_TRUE(torch::equal(a.topk_index < 0, b.topk_index < 0));
  const auto& p = bound.probs;
  EXPECT_TRUE(tol::within(at_indices(p, a.topk_index), at_indices(p, b.topk_index),
                          4 * bound.top().unsqueeze(-1), "p at topk_index"));
}

void expect_same_stats(const AttentionStats& a, const AttentionStats& b) {
  EXPECT_TRUE(torch::equal(a.entropy, b.entropy));
  EXPECT_TRUE(torch::equal(a.sink_mass, b.sink_mass));
  EXPECT_TRUE(torch::equal(a.local_mass, b.local_mass));
  EXPECT_TRUE(torch::equal(a.max_prob, b.max_prob));
  EXPECT_TRUE(torch::equal(a.argmax, b.argmax));
  EXPECT_TRUE(torch::equal(a.topk_index, b.topk_index));
  EXPECT_TRUE(torch::equal(a.topk_prob, b.topk_prob));
  EXPECT_TRUE(torch::equal(a.block_mass, b.block_mass));
}

// z = P·V and lse from the statistics' own probabilities, computed in float32 whatever the input
// dtype: within the float32 bounds of P·V and lse plus the float64 reference's own, and z's
// rounding to q's dtype. The statistics are attention_stats_cpu's, bit for bit.
TEST(AttentionWithStatsCpu, AttentionOutputLseAndTheSameStatistics) {
  struct Shape {
    int64_t seq, heads, kv_heads, head_dim;
    torch::ScalarType dtype;
    AttentionStatsOptions options;
  };
  const auto base = AttentionStatsOptions().with_scale(0.3).with_topk(4);
  for (const Shape& c : {
           // Chunks of 32 queries, T not a multiple of them, partial last query block.
           Shape{150, 4, 4, 16, torch::kFloat32,
                 AttentionStatsOptions(base).with_chunk(32).with_block_size(16)},
           Shape{97, 6, 2, 8, torch::kBFloat16,
                 AttentionStatsOptions(base).with_chunk(64).with_block_size(32)},
           Shape{120, 4, 2, 16, torch::kBFloat16,
                 AttentionStatsOptions(base).with_chunk(32).with_block_size(16).with_sliding_window(
                     30)},
           Shape{1, 2, 1, 8, torch::kFloat32, base},
       }) {
    SCOPED_TRACE("T " + std::to_string(c.seq) + " H " + std::to_string(c.heads) + "/" +
                 std::to_string(c.kv_heads) + " " + c10::toString(c.dtype));
    torch::manual_seed(c.seq);
    auto q = (torch::randn({c.heads, c.seq, c.head_dim}) * 2).to(c.dtype);
    auto k = torch::randn({c.kv_heads, c.seq, c.head_dim}).to(c.dtype);
    auto v = torch::randn({c.kv_heads, c.seq, c.head_dim}).to(c.dtype);
    const auto& o = c.options;
    const auto fused = attention_with_stats(q, k, v, o);
    ASSERT_TRUE(fused.has_value());
    ASSERT_EQ(fused->z.sizes(), q.sizes());
    EXPECT_EQ(fused->z.scalar_type(), c.dtype);
    ASSERT_EQ(fused->lse.sizes(), (std::vector<int64_t>{c.heads, c.seq}));
    EXPECT_EQ(fused->lse.scalar_type(), torch::kFloat32);
    expect_same_stats(fused->stats, attention_stats_cpu(q, k, o));

    const auto bound = stat_bounds(q, k, o);
    const int64_t group = c.heads / c.kv_heads;
    auto v64 = v.to(torch::kFloat64).repeat_interleave(group, 0);
    auto z64 = torch::matmul(bound.f64.probs, v64);
    const double u_out = c.dtype == torch::kFloat32 ? 0.0 : tol::unit_roundoff(c.dtype);
    auto z_bound = bound.f32.attend(v64) + bound.f64.attend(v64) + u_out * z64.abs();
    EXPECT_TRUE(tol::within(fused->z, z64, z_bound, "z"));
    auto lse64 = bound.f64.lse.squeeze(-1);
    EXPECT_TRUE(
        tol::within(fused->lse, lse64, bound.f32.lse_error() + bound.f64.lse_error(), "lse"));
    if (c.seq > 1) {
      // The bounds are tight enough to see z made from values one key off, or lse in base 2.
      auto shifted = torch::matmul(bound.f64.probs, v64.roll(1, 1));
      EXPECT_FALSE(tol::within(fused->z, shifted, z_bound, "z, values one key off"));
      EXPECT_FALSE(tol::within(fused->lse, lse64 / std::log(2.0),
                               bound.f32.lse_error() + bound.f64.lse_error(), "lse, base 2"));
    }
  }
}

TEST(AttentionWithStatsCpu, RejectsValuesOfAnotherShape) {
  auto q = torch::randn({2, 10, 8});
  EXPECT_THROW(attention_with_stats(q, q, q.narrow(1, 0, 5), {}), InvalidInput);
  EXPECT_THROW(attention_with_stats_cpu(q, q, torch::Tensor(), {}), InvalidInput);
}

TEST(AttentionStats, TopkLargerThanSequenceAndBadShapes) {
  auto q = torch::randn({1, 3, 4});
  auto stats = attention_stats(q, q, AttentionStatsOptions().with_topk(8));
  EXPECT_EQ(stats.topk_index.sizes(), (std::vector<int64_t>{1, 3, 8}));
  EXPECT_EQ(stats.topk_index[0][2][3].item<int>(), -1);
  EXPECT_THROW(attention_stats(torch::randn({3, 5, 4}), torch::randn({2, 5, 4}), {}), InvalidInput);
  EXPECT_THROW(attention_stats(q, q, AttentionStatsOptions().with_block_size(0)), InvalidInput);
}

}  // namespace
}  // namespace headscope
