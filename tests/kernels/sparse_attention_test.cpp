// The CPU reference of per-head sparse attention: masks written out by hand on small cases,
// and the attention itself against a plain float64 masked softmax, within float32 bounds.
#include <gtest/gtest.h>

#include <limits>
#include <vector>

#include "core/base/error.h"
#include "kernels/sparse_attention.h"
#include "tests/support/attention_bounds.h"
#include "tests/support/error_message.h"

namespace headscope {
namespace {

namespace tol = test::tol;

constexpr auto full = &SparseHeadConfig::full;
constexpr auto streaming = &SparseHeadConfig::streaming;
constexpr auto block_sparse = &SparseHeadConfig::block_sparse;

torch::Tensor rows(const std::vector<std::vector<int>>& m) {
  const int64_t n = static_cast<int64_t>(m.size());
  auto t = torch::zeros({n, n}, torch::kBool);
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < n; ++j) t[i][j] = m[i][j] != 0;
  }
  return t;
}

// softmax(scale q k^T masked by `keep`) v, keep: bool [B, H, T, T]: the exact value (float64)
// and the bound on the error of a float32 computation of it plus the float64 reference's own
// (tests/support/attention_bounds.h).
struct Attended {
  torch::Tensor exact, bound;
};

Attended masked_reference(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                          const torch::Tensor& keep, double scale) {
  const int64_t group = q.size(1) / k.size(1);
  auto vv = v.to(torch::kFloat64).repeat_interleave(group, 1);
  const auto f32 = tol::attention_bounds(q, k, scale, keep, tol::kFloat32);
  const auto f64 = tol::attention_bounds(q, k, scale, keep, tol::kFloat64);
  return {torch::matmul(f64.probs, vv), f32.attend(vv) + f64.attend(vv)};
}

torch::Tensor causal(int64_t seq) {
  return torch::ones({seq, seq}, torch::kBool).tril();
}

TEST(SparseAttentionMask, StreamingKeepsSinksAndWindow) {
  auto q = torch::randn({1, 1, 7, 4}), k = torch::randn({1, 1, 7, 4});
  auto mask = sparse_attention_mask(q, k, {streaming(1, 2)});
  auto expected = rows({{1, 0, 0, 0, 0, 0, 0},
                        {1, 1, 0, 0, 0, 0, 0},
                        {1, 1, 1, 0, 0, 0, 0},
                        {1, 0, 1, 1, 0, 0, 0},
                        {1, 0, 0, 1, 1, 0, 0},
                        {1, 0, 0, 0, 1, 1, 0},
                        {1, 0, 0, 0, 0, 1, 1}});
  EXPECT_TRUE(mask[0][0].equal(expected)) << mask[0][0];
}

TEST(SparseAttentionMask, BlockSparsePicksTheBestEarlierBlocks) {
  // Blocks of 2 over 8 positions. Key block means: b0 = e0, b1 = e1, b2 = e2, b3 = 0.
  // Query block 3 points at e1 and block 2 at e0; block 1 has a single earlier block.
  auto k = torch::zeros({1, 1, 8, 3});
  k[0][0][0][0] = 1, k[0][0][1][0] = 1;
  k[0][0][2][1] = 1, k[0][0][3][1] = 1;
  k[0][0][4][2] = 1, k[0][0][5][2] = 1;
  auto q = torch::zeros({1, 1, 8, 3});
  q[0][0][4][0] = 1, q[0][0][5][0] = 1;
  q[0][0][6][1] = 1, q[0][0][7][1] = 1;
  auto mask = sparse_attention_mask(q, k, {block_sparse(2, 1)});
  auto expected = rows({{1, 0, 0, 0, 0, 0, 0, 0},
                        {1, 1, 0, 0, 0, 0, 0, 0},
                        {1, 1, 1, 0, 0, 0, 0, 0},
                        {1, 1, 1, 1, 0, 0, 0, 0},
                        {1, 1, 0, 0, 1, 0, 0, 0},
                        {1, 1, 0, 0, 1, 1, 0, 0},
                        {0, 0, 1, 1, 0, 0, 1, 0},
                        {0, 0, 1, 1, 0, 0, 1, 1}});
  EXPECT_TRUE(mask[0][0].equal(expected)) << mask[0][0];
}

TEST(SparseAttentionMask, BlockSparseTiesKeepTheLowerBlockAndShortLastBlock) {
  // All-zero queries score every block 0: ties keep the lowest earlier blocks. T = 7 leaves a
  // last block of one position.
  auto q = torch::zeros({1, 1, 7, 2}), k = torch::randn({1, 1, 7, 2});
  auto mask = sparse_attention_mask(q, k, {block_sparse(2, 2)});
  auto expected = rows({{1, 0, 0, 0, 0, 0, 0},
                        {1, 1, 0, 0, 0, 0, 0},
                        {1, 1, 1, 0, 0, 0, 0},
                        {1, 1, 1, 1, 0, 0, 0},
                        {1, 1, 1, 1, 1, 0, 0},
                        {1, 1, 1, 1, 1, 1, 0},
                        {1, 1, 1, 1, 0, 0, 1}});
  EXPECT_TRUE(mask[0][0].equal(expected)) << mask[0][0];
}

TEST(SparseAttentionMask, GqaUsesEachQueryHeadsKvHead) {
  // Two query heads per kv head; kv head 1's first block is the only one that matches.
  auto k = torch::zeros({1, 2, 6, 2});
  k[0][0][2][0] = 1, k[0][0][3][0] = 1;  // kv 0: block 1 matches e0
  k[0][1][0][0] = 1, k[0][1][1][0] = 1;  // kv 1: block 0 matches e0
  auto q = torch::zeros({1, 4, 6, 2});
  q.select(3, 0).narrow(2, 4, 2).fill_(1.0);
  auto mask = sparse_attention_mask(q, k, std::vector<SparseHeadConfig>(4, block_sparse(2, 1)));
  for (int64_t h = 0; h < 4; ++h) {
    const bool reads_block1 = h < 2;
    EXPECT_EQ(mask[0][h][5][2].item<bool>(), reads_block1) << "head " << h;
    EXPECT_EQ(mask[0][h][5][0].item<bool>(), !reads_block1) << "head " << h;
  }
}

TEST(SparseAttention, FullEqualsDenseCausalAttention) {
  torch::manual_seed(1);
  auto q = torch::randn({2, 4, 13, 8}), k = torch::randn({2, 2, 13, 8}),
       v = torch::randn({2, 2, 13, 8});
  auto z = sparse_attention(q, k, v, std::vector<SparseHeadConfig>(4, full()), 0.3);
  auto ref = masked_reference(q, k, v, causal(13).expand({2, 4, 13, 13}), 0.3);
  EXPECT_TRUE(tol::within(z, ref.exact, ref.bound, "z"));
  EXPECT_EQ(z.scalar_type(), torch::kFloat32);
  EXPECT_EQ(z.sizes(), q.sizes());
}

TEST(SparseAttention, FullyKeptSparseConfigsEqualDense) {
  // A window covering the sequence, and top-k covering every earlier block, keep everything.
  torch::manual_seed(2);
  auto q = torch::randn({1, 3, 11, 4}), k = torch::randn({1, 3, 11, 4}),
       v = torch::randn({1, 3, 11, 4});
  std::vector<SparseHeadConfig> heads = {streaming(0, 11), block_sparse(3, 4), block_sparse(1, 10)};
  auto z = sparse_attention(q, k, v, heads, 0.5);
  auto ref = masked_reference(q, k, v, causal(11).expand({1, 3, 11, 11}), 0.5);
  EXPECT_TRUE(tol::within(z, ref.exact, ref.bound, "z"));
  auto fraction = sparse_kept_fraction(q, k, heads);
  EXPECT_TRUE(fraction.equal(torch::ones({1, 3}, torch::kFloat64))) << fraction;
}

TEST(SparseAttention, MixedHeadsMatchTheirMasksWithGqa) {
  torch::manual_seed(3);
  auto q = torch::randn({2, 6, 17, 8}), k = torch::randn({2, 3, 17, 8}),
       v = torch::randn({2, 3, 17, 8});
  std::vector<SparseHeadConfig> heads = {full(),
                                         streaming(2, 3),
                                         streaming(0, 1),
                                         block_sparse(4, 1),
                                         block_sparse(3, 0),
                                         block_sparse(5, 2)};
  auto mask = sparse_attention_mask(q, k, heads);
  EXPECT_TRUE(mask.logical_and(causal(17).logical_not()).any().item<bool>() == false);
  auto z = sparse_attention(q, k, v, heads, 0.35);
  auto ref = masked_reference(q, k, v, mask, 0.35);
  EXPECT_TRUE(tol::within(z, ref.exact, ref.bound, "z"));
  // Head 2 (window 1, no sink) attends only to itself: its one probability is exp(0) / 1 = 1
  // and the other terms are exact zeros, so z is v exactly.
  EXPECT_TRUE(torch::equal(z.select(1, 2), v.select(1, 1)));
  // Sparse heads really drop entries: the dense result lies outside the bound.
  auto dense = masked_reference(q, k, v, causal(17).expand({2, 6, 17, 17}), 0.35);
  EXPECT_FALSE(tol::within(z.select(1, 1), dense.exact.select(1, 1), ref.bound.select(1, 1),
                           "head 1 against dense"));
}

TEST(SparseAttention, ManyQueryChunksMatchTheMask) {
  // 2 heads x 2900^2 scores exceed one chunk's budget, so rows are processed in two chunks.
  torch::manual_seed(4);
  const int64_t seq = 2900;
  auto q = torch::randn({1, 2, seq, 4}), k = torch::randn({1, 1, seq, 4}),
       v = torch::randn({1, 1, seq, 4});
  std::vector<SparseHeadConfig> heads = {streaming(4, 100), block_sparse(64, 3)};
  auto z = sparse_attention(q, k, v, heads, 0.5);
  auto mask = sparse_attention_mask(q, k, heads);
  // Rows at the start, across the chunk boundary and at the end.
  const std::vector<std::pair<int64_t, int64_t>> row_ranges = {{0, 40}, {2860, 40}, {seq - 20, 20}};
  for (const auto& [first, count] : row_ranges) {
    auto ref =
        masked_reference(q.narrow(2, first, count), k, v, mask.narrow(2, first, count), 0.5);
    EXPECT_TRUE(tol::within(z.narrow(2, first, count), ref.exact, ref.bound,
                            "rows from " + std::to_string(first)));
  }
  // Kept counts are exact integers in float64 and each side divides once by the same exact
  // denominator: equal in any summation order.
  auto counts = mask.sum({2, 3}).to(torch::kFloat64) / (seq * (seq + 1) / 2.0);
  EXPECT_TRUE(torch::equal(sparse_kept_fraction(q, k, heads), counts));
}

TEST(SparseAttention, KeptFractionOfStreamingHasItsClosedForm) {
  const int64_t seq = 10, sink = 2, window = 3;
  auto q = torch::randn({1, 2, seq, 4}), k = torch::randn({1, 1, seq, 4});
  auto f = sparse_kept_fraction(q, k, {full(), streaming(sink, window)});
  // Query i keeps min(i + 1, window + min(sink, max(0, i + 1 - window))) keys.
  double kept = 0;
  for (int64_t i = 0; i < seq; ++i) {
    kept += std::min<int64_t>(
        i + 1, window + std::min<int64_t>(sink, std::max<int64_t>(0, i + 1 - window)));
  }
  EXPECT_DOUBLE_EQ(f[0][0].item<double>(), 1.0);
  EXPECT_DOUBLE_EQ(f[0][1].item<double>(), kept / (seq * (seq + 1) / 2.0));
  EXPECT_EQ(f.scalar_type(), torch::kFloat64);
}

TEST(SparseAttention, KeepsTheInputDtype) {
  auto q = torch::randn({1, 2, 9, 4}).to(torch::kFloat64), k = torch::randn({1, 1, 9, 4}),
       v = torch::randn({1, 1, 9, 4});
  auto z = sparse_attention(q, k.to(torch::kFloat64), v.to(torch::kFloat64),
                            {streaming(1, 2), block_sparse(2, 1)}, 1.0);
  EXPECT_EQ(z.scalar_type(), torch::kFloat64);
}

TEST(SparseAttentionErrors, RejectBadShapesAndConfigs) {
  auto q = torch::randn({1, 4, 5, 8}), k = torch::randn({1, 2, 5, 8}),
       v = torch::randn({1, 2, 5, 8});
  std::vector<SparseHeadConfig> four(4, full());
  EXPECT_NE(test::error_message<InvalidInput>([&] {
              sparse_attention(q, k, v, std::vector<SparseHeadConfig>(3, full()), 1.0);
            }).find("3 heads, q has 4"),
            std::string::npos);
  EXPECT_NE(test::error_message<InvalidInput>([&] {
              sparse_attention(q, torch::randn({1, 3, 5, 8}), v, four, 1.0);
            }).find("H a multiple of Hkv"),
            std::string::npos);
  EXPECT_NE(test::error_message<InvalidInput>([&] {
              sparse_attention(q, k, torch::randn({1, 2, 4, 8}), four, 1.0);
            }).find("v must have k's shape"),
            std::string::npos);
  EXPECT_NE(test::error_message<InvalidInput>([&] {
              sparse_attention_mask(q.view({4, 5, 8}), k, four);
            }).find("[B, H, T, D]"),
            std::string::npos);
  auto bad_window = four;
  bad_window[1] = streaming(4, 0);
  EXPECT_NE(test::error_message<InvalidInput>([&] {
              sparse_attention(q, k, v, bad_window, 1.0);
            }).find("head 1: streaming needs sink >= 0 and window >= 1"),
            std::string::npos);
  auto bad_block = four;
  bad_block[3] = block_sparse(0, 2);
  EXPECT_NE(test::error_message<InvalidInput>([&] {
              sparse_kept_fraction(q, k, bad_block);
            }).find("head 3: block_sparse needs block_size >= 1"),
            std::string::npos);
  bad_block[3] = block_sparse(4, -1);
  EXPECT_THROW(sparse_attention(q, k, v, bad_block, 1.0), InvalidInput);
}

}  // namespace
}  // namespace headscope
