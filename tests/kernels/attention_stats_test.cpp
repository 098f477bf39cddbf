// The chunked statistics against a plain computation from the full probability matrix in
// float64.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>

#include "core/error.h"
#include "kernels/attention_stats.h"

namespace headscope {
namespace {

struct Reference {
  torch::Tensor probs;  // [H, T, T] float64
};

Reference full_probs(const torch::Tensor& q, const torch::Tensor& k,
                     const AttentionStatsOptions& o) {
  const int64_t heads = q.size(0), seq = q.size(1), group = heads / k.size(0);
  auto kk = k.to(torch::kFloat64).repeat_interleave(group, 0);
  auto scores = torch::matmul(q.to(torch::kFloat64), kk.transpose(1, 2)) * o.scale;
  auto i = torch::arange(seq).unsqueeze(1), j = torch::arange(seq).unsqueeze(0);
  auto allowed = j <= i;
  if (o.sliding_window) allowed = allowed.logical_and(j > i - *o.sliding_window);
  scores = scores.masked_fill(allowed.logical_not(), -std::numeric_limits<double>::infinity());
  return {torch::softmax(scores, -1)};
}

double diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
}

void check_against_reference(const torch::Tensor& q, const torch::Tensor& k,
                             const AttentionStatsOptions& o) {
  auto stats = attention_stats(q, k, o);
  auto p = full_probs(q, k, o).probs;
  const int64_t seq = q.size(1), heads = q.size(0);
  auto j = torch::arange(seq).view({1, 1, seq});
  auto i = torch::arange(seq).view({1, seq, 1});
  auto entropy = -(p * torch::where(p > 0, p.log(), torch::zeros_like(p))).sum(-1);
  EXPECT_LT(diff(stats.entropy, entropy), 1e-4);
  EXPECT_LT(diff(stats.sink_mass, (p * (j < o.sink)).sum(-1)), 1e-5);
  EXPECT_LT(diff(stats.local_mass, (p * (j > i - o.window)).sum(-1)), 1e-5);
  auto top = p.topk(std::min(o.topk, seq), -1);
  EXPECT_LT(diff(stats.max_prob, std::get<0>(top).select(-1, 0)), 1e-5);
  // argmax must point at a key holding the maximum probability.
  auto at_argmax = p.gather(-1, stats.argmax.to(torch::kInt64).unsqueeze(-1)).squeeze(-1);
  EXPECT_LT(diff(at_argmax, std::get<0>(top).select(-1, 0)), 1e-5);
  EXPECT_LT(diff(stats.topk_prob.narrow(-1, 0, std::min(o.topk, seq)).masked_fill(
                     stats.topk_index.narrow(-1, 0, std::min(o.topk, seq)) < 0, 0.0),
                 std::get<0>(top)),
            1e-5);
  // Indices: the probability found at each reported index equals the reported probability.
  auto idx = stats.topk_index.to(torch::kInt64);
  auto valid = idx >= 0;
  auto gathered = torch::zeros_like(stats.topk_prob, torch::kFloat64);
  for (int64_t r = 0; r < idx.size(-1); ++r) {
    auto col = idx.select(-1, r).clamp_min(0).unsqueeze(-1);
    gathered.select(-1, r).copy_(p.gather(-1, col).squeeze(-1));
  }
  EXPECT_LT(diff(gathered.masked_fill(valid.logical_not(), 0.0), stats.topk_prob), 1e-5);
  // Query i has i + 1 allowed keys (no sliding window here): slots past them are -1.
  if (!o.sliding_window && o.topk > 1) {
    EXPECT_EQ(stats.topk_index[0][0][1].item<int>(), -1);
    EXPECT_EQ(stats.topk_prob[0][0][1].item<float>(), 0.0f);
  }
  // Block mass from the full matrix.
  const int64_t b = o.block_size, nb = (seq + b - 1) / b;
  auto expected = torch::zeros({heads, nb, nb}, torch::kFloat64);
  for (int64_t qa = 0; qa < nb; ++qa) {
    for (int64_t kb = 0; kb < nb; ++kb) {
      const int64_t q0 = qa * b, q1 = std::min(seq, q0 + b), k0 = kb * b, k1 = std::min(seq, k0 + b);
      expected.select(1, qa).select(1, kb).copy_(
          p.narrow(1, q0, q1 - q0).narrow(2, k0, k1 - k0).sum(-1).mean(-1));
    }
  }
  EXPECT_LT(diff(stats.block_mass, expected), 1e-5);
  EXPECT_LT(diff(stats.block_mass.sum(-1), torch::ones({heads, nb})), 1e-5);
}

TEST(AttentionStats, MatchesFullMatrixAcrossChunksAndPartialBlocks) {
  torch::manual_seed(1);
  auto q = torch::randn({4, 150, 16}) * 2;
  auto k = torch::randn({4, 150, 16});
  check_against_reference(q, k, AttentionStatsOptions().with_scale(0.25).with_block_size(16)
                                    .with_chunk(32).with_window(10).with_sink(3).with_topk(5));
}

TEST(AttentionStats, GroupedQueryHeadsAndSlidingWindow) {
  torch::manual_seed(2);
  auto q = torch::randn({6, 97, 8});
  auto k = torch::randn({2, 97, 8});
  check_against_reference(q, k, AttentionStatsOptions().with_scale(0.35).with_block_size(32)
                                    .with_chunk(64).with_sliding_window(20).with_topk(4));
}

TEST(AttentionStats, ChunkSizeDoesNotChangeResults) {
  torch::manual_seed(3);
  auto q = torch::randn({2, 200, 16});
  auto k = torch::randn({2, 200, 16});
  auto a = attention_stats(q, k, AttentionStatsOptions().with_chunk(64).with_block_size(16));
  auto b = attention_stats(q, k, AttentionStatsOptions().with_chunk(256).with_block_size(16));
  EXPECT_LT(diff(a.entropy, b.entropy), 1e-5);
  EXPECT_LT(diff(a.block_mass, b.block_mass), 1e-6);
  EXPECT_TRUE(torch::equal(a.topk_index, b.topk_index));
}

TEST(AttentionStats, TopkLargerThanSequenceAndBadShapes) {
  auto q = torch::randn({1, 3, 4});
  auto stats = attention_stats(q, q, AttentionStatsOptions().with_topk(8));
  EXPECT_EQ(stats.topk_index.sizes(), (std::vector<int64_t>{1, 3, 8}));
  EXPECT_EQ(stats.topk_index[0][2][3].item<int>(), -1);
  EXPECT_THROW(attention_stats(torch::randn({3, 5, 4}), torch::randn({2, 5, 4}), {}),
               InvalidInput);
  EXPECT_THROW(attention_stats(q, q, AttentionStatsOptions().with_block_size(0)), InvalidInput);
}

}  // namespace
}  // namespace headscope
