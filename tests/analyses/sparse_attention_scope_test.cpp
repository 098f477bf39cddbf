// Running a model with a per-head sparse config: the attention override against dense
// attention and against an independent masking of the explicit attention scores.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>

#include "analyses/sparse/sparse_attention_scope.h"
#include "core/base/error.h"
#include "tests/support/error_message.h"
#include "tests/support/fixtures.h"
#include "tests/support/forward_bounds.h"

namespace headscope {
namespace {

using ::testing::HasSubstr;

constexpr auto streaming = &SparseHeadConfig::streaming;

class SparseScope : public ::testing::Test {
 protected:
  void SetUp() override {
    model_ = Transformer::load(test::fixture("hf-tiny/llama"));  // 2 layers, 4 heads, 2 KV heads
    torch::manual_seed(5);
    tokens_ = torch::randint(0, model_->config().vocab_size, {2, 40}, torch::kInt64);
  }
  // Two float32 forward passes of the model on tokens_ (sparse or dense attention, cached or
  // not) agree within the whole-forward bound (tests/support/forward_bounds.h): a head sums
  // over at most T keys either way.
  torch::Tensor logits_bound() {
    HookedModel hooked(model_);
    ActivationCache cache;
    hooked.run_with_cache(tokens_, {"ln_final.hook_normalized"}, cache);
    return test::tol::logits_bound(model_->config(), tokens_.size(1),
                                   cache.at("ln_final.hook_normalized"), model_->weights().unembed);
  }
  std::shared_ptr<Transformer> model_;
  torch::Tensor tokens_;
  torch::NoGradGuard no_grad_;
};

TEST_F(SparseScope, FullyKeptStreamingHeadsMatchTheDenseModel) {
  HookedModel hooked(model_);
  auto dense = hooked.forward(tokens_);
  auto config = SparseModelConfig::dense(2, 4);
  for (auto& layer : config.heads) layer.assign(4, streaming(0, 40));  // window covers all
  ScopedSparseAttention sparse(hooked, config);
  sparse.measure_kept(true);
  auto logits = hooked.forward(tokens_);
  EXPECT_EQ(sparse.layers_attended(), 2);
  EXPECT_DOUBLE_EQ(sparse.kept_fraction(), 1.0);
  EXPECT_TRUE(test::tol::within(logits, dense, logits_bound(), "fully kept against dense"));
}

TEST_F(SparseScope, StreamingHeadsMatchMaskedAttentionScores) {
  // Layer 0 head 1 and layer 1 head 2 stream (sink 2, window 5); the reference masks the same
  // entries of hook_attn_scores to -inf on the model's explicit attention path.
  auto config = SparseModelConfig::dense(2, 4);
  config.heads[0][1] = streaming(2, 5);
  config.heads[1][2] = streaming(2, 5);
  HookedModel reference(model_);
  for (const auto& [layer, head] : {std::pair{0, 1}, std::pair{1, 2}}) {
    reference.add_hook("blocks." + std::to_string(layer) + ".attn.hook_attn_scores",
                       [head = head](const torch::Tensor& s, const HookContext&) {
                         const int64_t T = s.size(-1);
                         auto i = torch::arange(T).unsqueeze(1), j = torch::arange(T).unsqueeze(0);
                         auto drop = (j >= 2).logical_and(j <= i - 5);
                         auto out = s.clone();
                         out.select(1, head).masked_fill_(drop,
                                                          -std::numeric_limits<float>::infinity());
                         return std::optional<torch::Tensor>(out);
                       });
  }
  auto expected = reference.forward(tokens_);

  HookedModel hooked(model_);
  auto dense = hooked.forward(tokens_);
  ScopedSparseAttention sparse(hooked, config);
  sparse.measure_kept(true);
  auto logits = hooked.forward(tokens_);
  const auto bound = logits_bound();
  EXPECT_TRUE(test::tol::within(logits, expected, bound, "sparse against masked scores"));
  // The config really changes the model: by more than rounding.
  EXPECT_FALSE(test::tol::within(logits, dense, bound, "sparse against dense"));
  // One head in four streams in each layer: kept = (3 + f) / 4 with f the streaming fraction.
  double kept = 0;
  for (int64_t i = 0; i < 40; ++i)
    kept += std::min<int64_t>(i + 1, 5 + std::min<int64_t>(2, std::max<int64_t>(0, i + 1 - 5)));
  // Exact counts; then float64 divisions and means (per head, over 8 batch heads, over 2
  // layers) and this line's two roundings.
  const double fraction = (3.0 + kept / (40.0 * 41.0 / 2.0)) / 4.0;
  EXPECT_TRUE(test::tol::within(sparse.kept_fraction(), fraction,
                                test::tol::gamma(12, test::tol::kFloat64) * fraction,
                                "kept fraction"));
}

TEST_F(SparseScope, OverrideEndsWithTheScopeAndSkipsCachedPasses) {
  HookedModel hooked(model_);
  auto dense = hooked.forward(tokens_);
  auto config = SparseModelConfig::dense(2, 4);
  for (auto& layer : config.heads) layer.assign(4, streaming(1, 2));
  {
    ScopedSparseAttention sparse(hooked, config);
    EXPECT_TRUE(hooked.has_attention_override());
    EXPECT_THAT(
        test::error_message<InvalidInput>([&] { ScopedSparseAttention again(hooked, config); }),
        HasSubstr("already runs with an attention override"));
    KVCache cache;
    auto cached = hooked.forward(tokens_, &cache);
    EXPECT_EQ(sparse.layers_attended(), 0);
    EXPECT_TRUE(test::tol::within(cached, dense, logits_bound(), "cached against dense"));
  }
  EXPECT_FALSE(hooked.has_attention_override());
  // The same ops on the same values as before the scope: no rounding differs.
  EXPECT_TRUE(torch::equal(hooked.forward(tokens_), dense));
}

TEST_F(SparseScope, RejectsAConfigOfAnotherShape) {
  HookedModel hooked(model_);
  EXPECT_THAT(test::error_message<InvalidInput>(
                  [&] { ScopedSparseAttention s(hooked, SparseModelConfig::dense(2, 8)); }),
              HasSubstr("2 layers x 8 heads, the model has 2 x 4"));
}

}  // namespace
}  // namespace headscope
