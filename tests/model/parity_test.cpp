// Parity with Hugging Face transformers (eager attention, float32) on every fixture family:
// logits, every attention map, every hidden state, greedy generation.
#include <gtest/gtest.h>

#include "core/model/generate.h"
#include "hooks/hooked_model.h"
#include "tests/support/attention_bounds.h"
#include "tests/support/fixtures.h"
#include "tests/support/forward_bounds.h"
#include "tests/support/reference.h"

namespace headscope {
namespace {

namespace tol = test::tol;

// The unembedding's input of a model on tokens.
torch::Tensor final_normalized(const std::shared_ptr<Transformer>& model,
                               const torch::Tensor& tokens) {
  HookedModel hooked(model);
  ActivationCache cache;
  hooked.run_with_cache(tokens, {"ln_final.hook_normalized"}, cache);
  return cache.at("ln_final.hook_normalized");
}

// Logits of two float32 forward passes of `model` on `tokens`, within the bound of
// tests/support/forward_bounds.h.
::testing::AssertionResult same_logits(const std::shared_ptr<Transformer>& model,
                                       const torch::Tensor& tokens, const torch::Tensor& a,
                                       const torch::Tensor& b, const std::string& what) {
  const auto bound = tol::logits_bound(model->config(), tokens.size(1),
                                       final_normalized(model, tokens), model->weights().unembed);
  return tol::within(a.cpu(), b.cpu(), bound, what);
}

class FamilyParity : public ::testing::TestWithParam<std::string> {
 protected:
  std::string dir() const { return test::fixture("hf-tiny/" + GetParam()); }
};

// Against transformers' float32 reference: both sides are float32 forward passes, so each
// quantity agrees within twice the first-order bound of its chain of roundings
// (tests/support/forward_bounds.h), relative to the magnitude of the terms that formed it.
TEST_P(FamilyParity, LogitsPatternsHiddenStates) {
  auto ref = test::load_reference(dir() + "/reference.safetensors");
  auto model = Transformer::load(dir(), ModelLoadOptions().with_dtype(torch::kFloat32));
  const ModelConfig& c = model->config();
  const bool rotary = !c.learned_positions;
  HookedModel hooked(model);
  ActivationCache cache;
  torch::NoGradGuard no_grad;
  auto logits = hooked.run_with_cache(
      ref.at("input_ids"),
      {"blocks.*.attn.hook_pattern", "blocks.*.hook_resid_post", "blocks.0.hook_resid_pre",
       "ln_final.hook_normalized", "blocks.*.hook_attn_out", "blocks.*.hook_mlp_out",
       rotary ? "blocks.*.attn.hook_rot_q" : "blocks.*.attn.hook_q",
       rotary ? "blocks.*.attn.hook_rot_k" : "blocks.*.attn.hook_k"},
      cache);
  const int64_t layers = c.n_layers, seq = ref.at("input_ids").size(1);
  const auto& h = cache.at("ln_final.hook_normalized");
  const auto logits_bound = tol::logits_bound(c, seq, h, model->weights().unembed);
  EXPECT_TRUE(tol::within(logits, ref.at("logits"), logits_bound, "logits"));
  // Tight enough to see a 0.1% error in the logits.
  EXPECT_FALSE(tol::within(logits * 1.001, ref.at("logits"), logits_bound, "logits, 0.1% scale"));
  // Patterns: q and k carry the error of the chain through their block (input_rel); a
  // probability then errs relative to itself (tests/support/attention_bounds.h).
  auto i = torch::arange(seq).unsqueeze(1), j = torch::arange(seq).unsqueeze(0);
  auto allowed = j <= i;
  if (c.sliding_window) allowed = allowed.logical_and(j > i - *c.sliding_window);
  for (int64_t l = 0; l < layers; ++l) {
    const auto prefix = "blocks." + std::to_string(l) + ".attn.hook_" + (rotary ? "rot_" : "");
    const auto b = tol::attention_bounds(cache.at(prefix + "q").transpose(1, 2),
                                         cache.at(prefix + "k").transpose(1, 2),
                                         model->attention_scale(), allowed, tol::kFloat32,
                                         tol::forward_gamma(c, seq, l + 1, false));
    const auto name = "blocks." + std::to_string(l) + ".attn.hook_pattern";
    EXPECT_TRUE(tol::within(cache.at(name), ref.at("attn." + std::to_string(l)),
                            2.0 * b.probs * b.rel, name));
  }
  // transformers' hidden_states: the embedding output, each block's output but the last, and
  // the last block's output after the final norm. The residual stream's terms are the
  // embedding and every earlier attention and MLP output.
  const auto& embedded = cache.at("blocks.0.hook_resid_pre");
  EXPECT_TRUE(tol::within(embedded, ref.at("hidden.0"),
                          2.0 * tol::forward_gamma(c, seq, 0, false) * embedded.abs(),
                          "hidden.0"));
  auto magnitude = embedded.to(torch::kFloat64).abs();
  for (int64_t l = 1; l <= layers; ++l) {
    const auto block = "blocks." + std::to_string(l - 1);
    magnitude = magnitude + cache.at(block + ".hook_attn_out").to(torch::kFloat64).abs() +
                cache.at(block + ".hook_mlp_out").to(torch::kFloat64).abs();
    const double g = tol::forward_gamma(c, seq, l, l == layers);
    if (l < layers) {
      const auto name = block + ".hook_resid_post";
      EXPECT_TRUE(tol::within(cache.at(name), ref.at("hidden." + std::to_string(l)),
                              2.0 * g * magnitude, name));
      continue;
    }
    // The final norm divides the residual's error by its scale sigma (rms, or the standard
    // deviation for LayerNorm, whose mean subtraction adds the row's mean magnitude) and
    // multiplies by |w|; its bias adds one rounding of the output.
    auto x = cache.at(block + ".hook_resid_post").to(torch::kFloat64);
    const bool layer_norm = c.norm == NormKind::kLayerNorm;
    auto centred = layer_norm ? x - x.mean(-1, true) : x;
    auto sigma = (centred.pow(2).mean(-1, true) + c.norm_eps).sqrt();
    auto terms = layer_norm ? magnitude + magnitude.mean(-1, true) : magnitude;
    auto w = model->weights().final_norm_w.to(torch::kFloat64).abs();
    EXPECT_TRUE(tol::within(h, ref.at("hidden." + std::to_string(l)),
                            2.0 * g * (terms * w / sigma + h.to(torch::kFloat64).abs()),
                            "ln_final.hook_normalized"));
  }
}

TEST_P(FamilyParity, GreedyGenerationMatches) {
  auto ref = test::load_reference(dir() + "/reference.safetensors");
  auto model = Transformer::load(dir());
  const auto& expected = ref.at("generate.output");
  const auto& prompt = ref.at("generate.prompt");
  GenerateOptions options;
  options.max_new_tokens = expected.size(1) - prompt.size(1);
  auto out = greedy_generate(*model, prompt, options);
  EXPECT_TRUE(torch::equal(out, expected)) << out << "\nexpected\n" << expected;
}

TEST_P(FamilyParity, CachedDecodingEqualsFullForward) {
  auto ref = test::load_reference(dir() + "/reference.safetensors");
  auto model = Transformer::load(dir());
  torch::NoGradGuard no_grad;
  auto tokens = ref.at("input_ids");
  auto full = model->forward(tokens);
  KVCache cache;
  auto prefix = model->forward(tokens.narrow(1, 0, 16), nullptr, &cache);
  std::vector<torch::Tensor> steps{prefix};
  for (int64_t t = 16; t < tokens.size(1); ++t) {
    steps.push_back(model->forward(tokens.narrow(1, t, 1), nullptr, &cache));
  }
  EXPECT_TRUE(same_logits(model, tokens, torch::cat(steps, 1), full, "cached against full"));
}

TEST_P(FamilyParity, FusedAndExplicitAttentionAgree) {
  auto ref = test::load_reference(dir() + "/reference.safetensors");
  auto model = Transformer::load(dir());
  HookedModel hooked(model);
  torch::NoGradGuard no_grad;
  auto fused = hooked.forward(ref.at("input_ids"));
  // A reading hook on the pattern forces the explicit (materialised) path.
  hooked.add_hook("blocks.*.attn.hook_pattern",
                  [](const torch::Tensor&, const HookContext&) { return std::nullopt; });
  auto explicit_logits = hooked.forward(ref.at("input_ids"));
  EXPECT_TRUE(same_logits(model, ref.at("input_ids"), fused, explicit_logits, "fused against explicit"));
}

TEST_P(FamilyParity, LogitsAndPatternsOnGpu_CUDA) {
  auto ref = test::load_reference(dir() + "/reference.safetensors");
  auto model = Transformer::load(
      dir(), ModelLoadOptions().with_dtype(torch::kFloat32).with_device(torch::kCUDA));
  HookedModel hooked(model);
  ActivationCache cache;
  torch::NoGradGuard no_grad;
  auto logits = hooked.run_with_cache(ref.at("input_ids"), {"blocks.0.attn.hook_pattern"}, cache);
  EXPECT_TRUE(logits.is_cuda());
  EXPECT_TRUE(same_logits(model, ref.at("input_ids"), logits, ref.at("logits"), "logits"));
  // Probabilities err relative to themselves; a relative bound of the whole chain holds them.
  const auto& p = cache.at("blocks.0.attn.hook_pattern").cpu();
  EXPECT_TRUE(tol::within(
      p, ref.at("attn.0"),
      4.0 * tol::forward_gamma(model->config(), ref.at("input_ids").size(1), 1, false) * p.abs(),
      "attn.0"));
  auto fused = model->forward(ref.at("input_ids"));  // no hooks: the fused SDPA path
  EXPECT_TRUE(same_logits(model, ref.at("input_ids"), fused, ref.at("logits"), "fused"));
}

INSTANTIATE_TEST_SUITE_P(Fixtures, FamilyParity,
                         ::testing::ValuesIn(test::kFixtureFamilies));

// Logits at the previous position: what a position off by one would give, to show a bound can
// see it.
torch::Tensor shifted(const torch::Tensor& logits) {
  return torch::cat({logits.narrow(1, 0, 1), logits.narrow(1, 0, logits.size(1) - 1)}, 1);
}

// The shards hold the llama weights rounded to bfloat16 (stored as float32): the same values as
// llama_bf16. So the sharded model must equal llama_bf16 computed in float32, to float32
// rounding; against the full-precision reference logits, rounding the weights adds u_bf16 per
// weight on the path (tests/support/forward_bounds.h; measured 0.0048).
TEST(CheckpointVariants, ShardedMatchesSingleFileOfSameWeights) {
  const auto dir = test::fixture("hf-tiny/llama_sharded");
  auto ref = test::load_reference(dir + "/reference.safetensors");
  torch::NoGradGuard no_grad;
  const auto& tokens = ref.at("input_ids");
  const auto model = Transformer::load(dir);
  auto sharded = model->forward(tokens);
  auto single = Transformer::load(test::fixture("hf-tiny/llama_bf16"),
                                  ModelLoadOptions().with_dtype(torch::kFloat32))
                    ->forward(tokens);
  EXPECT_TRUE(same_logits(model, tokens, sharded, single, "sharded against single file"));
  const ModelConfig& c = model->config();
  const auto terms = tol::abs_matmul(final_normalized(model, tokens), model->weights().unembed.t());
  const double relative = tol::weight_roundings(c) * tol::kBFloat16 +
                          2.0 * tol::forward_gamma(c, tokens.size(1), c.n_layers, true);
  EXPECT_TRUE(tol::within(sharded, ref.at("logits"), relative * terms, "sharded against reference"));
  EXPECT_FALSE(tol::within(shifted(sharded), ref.at("logits"), relative * terms,
                           "sharded, position off by one"));
}

// The reference logits come from the bf16 model itself (transformers on CPU): both sides round
// every op's output to bf16 (tests/support/forward_bounds.h), so they agree within twice those
// roundings relative to the unembedding's terms; the float32 model has only the reference's.
// This first-order count is loose for bf16 (u = 2^-8; the bound reaches half the largest logit
// here), so it catches gross errors only: a position off by one, not a 5% scale error.
TEST(CheckpointVariants, Bf16MatchesReferenceWithinBf16Precision) {
  const auto dir = test::fixture("hf-tiny/llama_bf16");
  auto ref = test::load_reference(dir + "/reference.safetensors");
  torch::NoGradGuard no_grad;
  const auto& tokens = ref.at("input_ids");
  auto model = Transformer::load(dir);
  ASSERT_EQ(model->dtype(), torch::kBFloat16);
  auto logits = model->forward(tokens);
  EXPECT_EQ(logits.scalar_type(), torch::kBFloat16);
  auto f32 = Transformer::load(dir, ModelLoadOptions().with_dtype(torch::kFloat32));
  const ModelConfig& c = f32->config();
  const auto terms = tol::abs_matmul(final_normalized(f32, tokens), f32->weights().unembed.t());
  const double bf16 = tol::bf16_roundings(c) * tol::kBFloat16;
  const double f32_chain = tol::forward_gamma(c, tokens.size(1), c.n_layers, true);
  const auto bound = 2.0 * (bf16 + f32_chain) * terms;
  EXPECT_TRUE(tol::within(logits, ref.at("logits"), bound, "bf16"));
  EXPECT_TRUE(tol::within(f32->forward(tokens), ref.at("logits"), (bf16 + 2.0 * f32_chain) * terms,
                          "float32"));
  EXPECT_FALSE(tol::within(shifted(logits), ref.at("logits"), bound, "bf16, position off by one"));
}

}  // namespace
}  // namespace headscope
