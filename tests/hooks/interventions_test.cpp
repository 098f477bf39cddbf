#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/error.h"
#include "hooks/head_interventions.h"
#include "tests/support/fixtures.h"
#include "tests/support/reference.h"

namespace headscope {
namespace {

using ::testing::HasSubstr;

class Interventions : public ::testing::Test {
 protected:
  void SetUp() override {
    model_ = Transformer::load(test::fixture("hf-tiny/llama"));
    tokens_ =
        test::load_reference(test::fixture("hf-tiny/llama/reference.safetensors")).at("input_ids");
  }
  ActivationCache run(HookedModel& hooked, const std::vector<std::string>& filters,
                      torch::Tensor* logits = nullptr) {
    ActivationCache cache;
    torch::NoGradGuard no_grad;
    auto out = hooked.run_with_cache(tokens_, filters, cache);
    if (logits != nullptr) *logits = out;
    return cache;
  }
  std::shared_ptr<Transformer> model_;
  torch::Tensor tokens_;
};

TEST_F(Interventions, GlobSelectsHookPointsAndRejectsUnknownNames) {
  HookedModel hooked(model_);
  EXPECT_EQ(hooked.match("blocks.*.attn.hook_pattern").size(), 2u);
  EXPECT_EQ(hooked.match("blocks.1.attn.hook_?").size(), 4u);  // q, k, v, z
  try {
    hooked.add_hook("blocks.9.attn.hook_pattern", nullptr);
    FAIL() << "expected an error";
  } catch (const InvalidInput& e) {
    EXPECT_THAT(e.what(), HasSubstr("blocks.9.attn.hook_pattern"));
  }
}

// Logits for the last position only, or none, skip the unembedding of the others; the hooks
// still see every position.
TEST_F(Interventions, LogitsForTheLastPositionOrNone) {
  HookedModel hooked(model_);
  torch::NoGradGuard no_grad;
  const auto all = hooked.forward(tokens_);
  const auto last = hooked.forward(tokens_, nullptr, LogitPositions::kLast);
  ASSERT_EQ(last.sizes(), (std::vector<int64_t>{tokens_.size(0), 1, all.size(2)}));
  EXPECT_TRUE(torch::allclose(last.select(1, 0), all.select(1, all.size(1) - 1), 1e-5, 1e-6));

  int64_t seen_positions = 0;
  hooked.add_hook("ln_final.hook_normalized",
                  [&](const torch::Tensor& x, const HookContext&) -> std::optional<torch::Tensor> {
                    seen_positions = x.size(1);
                    return std::nullopt;
                  });
  EXPECT_FALSE(hooked.forward(tokens_, nullptr, LogitPositions::kNone).defined());
  EXPECT_EQ(seen_positions, tokens_.size(1));
}

TEST_F(Interventions, ShapesFollowTransformerLensWithUnrepeatedKv) {
  HookedModel hooked(model_);
  auto cache = run(hooked, {"blocks.0.attn.*"});
  const auto& c = model_->config();
  EXPECT_EQ(cache.at("blocks.0.attn.hook_q").sizes(), (std::vector<int64_t>{2, 24, 4, 16}));
  EXPECT_EQ(cache.at("blocks.0.attn.hook_k").sizes(),
            (std::vector<int64_t>{2, 24, c.n_kv_heads, 16}));
  EXPECT_EQ(cache.at("blocks.0.attn.hook_pattern").sizes(), (std::vector<int64_t>{2, 4, 24, 24}));
  EXPECT_EQ(cache.at("blocks.0.attn.hook_result").sizes(),
            (std::vector<int64_t>{2, 24, 4, c.d_model}));
  // Per-head results sum to the attention output (no o_proj bias in llama).
  auto out = run(hooked, {"blocks.0.hook_attn_out"}).at("blocks.0.hook_attn_out");
  EXPECT_LT(test::max_abs_diff(cache.at("blocks.0.attn.hook_result").sum(2), out), 1e-5);
}

TEST_F(Interventions, ZeroHeadZeroesOnlyThatHead) {
  HookedModel hooked(model_);
  apply_interventions(hooked, {zero_head(model_->config(), {1, 2})});
  auto z = run(hooked, {"blocks.1.attn.hook_z"}).at("blocks.1.attn.hook_z");
  EXPECT_EQ(z.select(2, 2).abs().max().item<float>(), 0.0f);
  EXPECT_GT(z.select(2, 1).abs().max().item<float>(), 0.0f);
}

TEST_F(Interventions, UniformAttentionIsUniformOverCausalKeys) {
  HookedModel hooked(model_);
  apply_interventions(hooked, {uniform_attention(model_->config(), {0, 3})});
  auto pattern = run(hooked, {"blocks.0.attn.hook_pattern"}).at("blocks.0.attn.hook_pattern");
  auto row = pattern[0][3][9];  // query 9 sees keys 0..9
  EXPECT_NEAR(row[0].item<float>(), 0.1f, 1e-6);
  EXPECT_NEAR(row[9].item<float>(), 0.1f, 1e-6);
  EXPECT_EQ(row[10].item<float>(), 0.0f);
}

TEST_F(Interventions, MaskedKeysGetNoAttentionAndFullyMaskedRowsStayFinite) {
  HookedModel hooked(model_);
  apply_interventions(hooked, {mask_keys(model_->config(), {1, 0}, {0, 5})});
  auto pattern = run(hooked, {"blocks.1.attn.hook_pattern"}).at("blocks.1.attn.hook_pattern");
  EXPECT_EQ(pattern[0][0][10][0].item<float>(), 0.0f);
  EXPECT_EQ(pattern[0][0][10][5].item<float>(), 0.0f);
  EXPECT_NEAR(pattern[0][0][10].sum().item<float>(), 1.0f, 1e-5);
  EXPECT_TRUE(torch::isfinite(pattern).all().item<bool>());  // query 0's only key is masked
}

TEST_F(Interventions, PatchFromOwnRunChangesNothingMeanAndScaleDo) {
  HookedModel hooked(model_);
  torch::Tensor clean_logits, logits;
  auto clean = run(hooked, {"blocks.0.attn.hook_z"}, &clean_logits);
  const auto& z = clean.at("blocks.0.attn.hook_z");
  auto ids = apply_interventions(hooked, {patch_head(model_->config(), {0, 1}, z)});
  run(hooked, {}, &logits);
  EXPECT_LT(test::max_abs_diff(logits, clean_logits), 1e-6);
  hooked.clear_hooks();

  apply_interventions(hooked, {mean_head(model_->config(), {0, 1}, head_mean_output(z, 1))});
  auto patched = run(hooked, {"blocks.0.attn.hook_z"}).at("blocks.0.attn.hook_z");
  EXPECT_LT(test::max_abs_diff(patched[1][7][1], head_mean_output(z, 1)), 1e-6);
  hooked.clear_hooks();

  apply_interventions(hooked, {scale_head(model_->config(), {0, 1}, torch::tensor(0.5))});
  auto scaled = run(hooked, {"blocks.0.attn.hook_z"}).at("blocks.0.attn.hook_z");
  EXPECT_LT(test::max_abs_diff(scaled.select(2, 1), z.select(2, 1) * 0.5), 1e-6);
  EXPECT_LT(test::max_abs_diff(scaled.select(2, 0), z.select(2, 0)), 1e-7);
}

TEST_F(Interventions, GradientFlowsToHeadScaleFactor) {
  HookedModel hooked(model_);
  auto factor = torch::ones({}, torch::requires_grad());
  apply_interventions(hooked, {scale_head(model_->config(), {1, 0}, factor)});
  auto logits = hooked.forward(tokens_);
  logits.select(1, 23).logsumexp(-1).sum().backward();
  ASSERT_TRUE(factor.grad().defined());
  EXPECT_NE(factor.grad().item<float>(), 0.0f);
}

TEST_F(Interventions, RejectsHeadsOutsideTheModel) {
  try {
    zero_head(model_->config(), {2, 0});
    FAIL() << "expected an error";
  } catch (const InvalidInput& e) {
    EXPECT_THAT(e.what(), HasSubstr("2.0"));
  }
}

}  // namespace
}  // namespace headscope
