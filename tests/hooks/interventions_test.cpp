#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/base/error.h"
#include "hooks/head_interventions.h"
#include "tests/support/fixtures.h"
#include "tests/support/forward_bounds.h"
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

// Starting at a layer from the residual stream the full pass fed it repeats the full pass's
// arithmetic on the same values, so the logits and the later hooks are the same bits.
TEST_F(Interventions, ForwardFromALayerRepeatsTheFullPass) {
  HookedModel hooked(model_);
  const int64_t layers = model_->config().n_layers;
  std::vector<std::string> filters;
  for (int64_t l = 0; l < layers; ++l) {
    filters.push_back("blocks." + std::to_string(l) + ".hook_resid_pre");
  }
  torch::Tensor full;
  const ActivationCache cache = run(hooked, filters, &full);
  torch::NoGradGuard no_grad;
  for (int64_t l = 0; l < layers; ++l) {
    ActivationCache later;
    ScopedHooks scoped(hooked);
    scoped.add("blocks.*.attn.hook_pattern",
               [&later](const torch::Tensor& v, const HookContext& c) {
                 later.put(c.name, v);
                 return std::nullopt;
               });
    const torch::Tensor from = hooked.forward_from(l, cache.at(filters[static_cast<size_t>(l)]));
    EXPECT_TRUE(torch::equal(from, full)) << "from layer " << l;
    EXPECT_EQ(later.values().size(), static_cast<size_t>(layers - l)) << "from layer " << l;
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
  // Only the unembedding's shape differs: two float32 products of d_model terms.
  ActivationCache cache;
  hooked.run_with_cache(tokens_, {"ln_final.hook_normalized"}, cache);
  const auto h = cache.at("ln_final.hook_normalized").select(1, tokens_.size(1) - 1);
  const auto terms = test::tol::abs_matmul(h, model_->weights().unembed.t());
  EXPECT_TRUE(test::tol::within(
      last.select(1, 0), all.select(1, all.size(1) - 1),
      2.0 * test::tol::gamma(model_->config().d_model, test::tol::kFloat32) * terms,
      "last-position logits"));

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
  // Two float32 orders of the same n_heads * d_head products: per head then summed, or o_proj.
  auto z = run(hooked, {"blocks.0.attn.hook_z"}).at("blocks.0.attn.hook_z").flatten(2);
  const auto terms = test::tol::abs_matmul(z, model_->weights().layers[0].wo.t());
  EXPECT_TRUE(test::tol::within(
      cache.at("blocks.0.attn.hook_result").sum(2), out,
      2.0 * test::tol::gamma(c.n_heads * c.d_head, test::tol::kFloat32) * terms, "attn_out"));
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
  // 1 / 10 in float32: one rounded division, plus one for however the ones are normalised.
  const double bound = test::tol::gamma(2, test::tol::kFloat32) * 0.1;
  EXPECT_TRUE(test::tol::within(row[0].item<double>(), 0.1, bound, "p[0]"));
  EXPECT_TRUE(test::tol::within(row[9].item<double>(), 0.1, bound, "p[9]"));
  EXPECT_EQ(row[10].item<float>(), 0.0f);
}

TEST_F(Interventions, MaskedKeysGetNoAttentionAndFullyMaskedRowsStayFinite) {
  HookedModel hooked(model_);
  apply_interventions(hooked, {mask_keys(model_->config(), {1, 0}, {0, 5})});
  auto pattern = run(hooked, {"blocks.1.attn.hook_pattern"}).at("blocks.1.attn.hook_pattern");
  EXPECT_EQ(pattern[0][0][10][0].item<float>(), 0.0f);
  EXPECT_EQ(pattern[0][0][10][5].item<float>(), 0.0f);
  // A softmax row of n = 11 keys: each probability within gamma_{n+4} of its share, then a sum
  // of n terms.
  EXPECT_TRUE(test::tol::within(pattern[0][0][10].sum().item<double>(), 1.0,
                                test::tol::gamma(2 * 11 + 4, test::tol::kFloat32), "row sum"));
  EXPECT_TRUE(torch::isfinite(pattern).all().item<bool>());  // query 0's only key is masked
}

TEST_F(Interventions, PatchFromOwnRunChangesNothingMeanAndScaleDo) {
  HookedModel hooked(model_);
  torch::Tensor clean_logits, logits;
  auto clean = run(hooked, {"blocks.0.attn.hook_z"}, &clean_logits);
  const auto& z = clean.at("blocks.0.attn.hook_z");
  auto ids = apply_interventions(hooked, {patch_head(model_->config(), {0, 1}, z)});
  run(hooked, {}, &logits);
  // The same values through the same ops; only the patched tensor's layout may change the
  // products' order: the whole-forward float32 bound (tests/support/forward_bounds.h).
  ActivationCache final_cache;
  hooked.run_with_cache(tokens_, {"ln_final.hook_normalized"}, final_cache);
  EXPECT_TRUE(test::tol::within(logits, clean_logits,
                                test::tol::logits_bound(model_->config(), tokens_.size(1),
                                                        final_cache.at("ln_final.hook_normalized"),
                                                        model_->weights().unembed),
                                "patched logits"));
  hooked.clear_hooks();

  apply_interventions(hooked, {mean_head(model_->config(), {0, 1}, head_mean_output(z, 1))});
  auto patched = run(hooked, {"blocks.0.attn.hook_z"}).at("blocks.0.attn.hook_z");
  EXPECT_TRUE(torch::equal(patched[1][7][1], head_mean_output(z, 1)));  // copied, not computed
  hooked.clear_hooks();

  apply_interventions(hooked, {scale_head(model_->config(), {0, 1}, torch::tensor(0.5))});
  auto scaled = run(hooked, {"blocks.0.attn.hook_z"}).at("blocks.0.attn.hook_z");
  // Layer 0's z comes from the same ops on the same inputs, and halving is exact in binary.
  EXPECT_TRUE(torch::equal(scaled.select(2, 1), z.select(2, 1) * 0.5));
  EXPECT_TRUE(torch::equal(scaled.select(2, 0), z.select(2, 0)));
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
