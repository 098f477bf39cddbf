#include "zoo/checkpoint_writer.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/model/transformer.h"
#include "hooks/hooked_model.h"
#include "tests/support/forward_bounds.h"
#include "tests/zoo/zoo_test_support.h"
#include "zoo/model_init.h"

namespace headscope {
namespace {

ModelConfig small_config(bool tied) {
  ModelConfig c;
  c.family = Family::kLlama;
  c.model_type = "llama";
  c.n_layers = 2;
  c.n_heads = 4;
  c.n_kv_heads = 2;
  c.d_model = 32;
  c.d_head = 8;
  c.d_mlp = 48;
  c.vocab_size = 50;
  c.max_positions = 64;
  c.rope.theta = 5000.0;
  c.tied_embeddings = tied;
  return c;
}

torch::Tensor tokens() {
  return torch::randint(0, 50, {2, 17}, torch::kInt64);
}

// The unembedding's input of a model on ids.
torch::Tensor final_normalized(const std::shared_ptr<Transformer>& model, const torch::Tensor& ids) {
  HookedModel hooked(model);
  ActivationCache cache;
  hooked.run_with_cache(ids, {"ln_final.hook_normalized"}, cache);
  return cache.at("ln_final.hook_normalized");
}

class CheckpointRoundTrip : public ::testing::TestWithParam<bool> {};

TEST_P(CheckpointRoundTrip, LoadsWithSameLogits) {
  const test::ScratchDir dir;
  const ModelConfig config = small_config(GetParam());
  const ModelWeights weights = init_llama_weights(config, 7, torch::kCPU);
  const auto trained = Transformer::from_weights(config, weights);
  write_llama_checkpoint(dir.str(), config, weights, SpecialTokens{1, 2, 0});

  const auto loaded = Transformer::load(dir.str());
  EXPECT_EQ(loaded->config().n_kv_heads, 2);
  EXPECT_EQ(loaded->config().d_head, 8);
  EXPECT_EQ(loaded->config().tied_embeddings, GetParam());
  EXPECT_DOUBLE_EQ(loaded->config().rope.theta, 5000.0);
  EXPECT_EQ(loaded->dtype(), torch::kFloat32);
  torch::NoGradGuard no_grad;
  const auto ids = tokens();
  // The same float32 weights; the loaded tensors' layout may change the products' order: the
  // whole-forward float32 bound (tests/support/forward_bounds.h).
  EXPECT_TRUE(test::tol::within(
      loaded->forward(ids), trained->forward(ids),
      test::tol::logits_bound(config, ids.size(1), final_normalized(loaded, ids),
                              loaded->weights().unembed),
      "loaded against trained"));
}

INSTANTIATE_TEST_SUITE_P(Tied, CheckpointRoundTrip, ::testing::Bool());

TEST(CheckpointWriter, Bfloat16LoadsWithinRounding) {
  const test::ScratchDir dir;
  const ModelConfig config = small_config(false);
  const ModelWeights weights = init_llama_weights(config, 3, torch::kCPU);
  write_llama_checkpoint(dir.str(), config, weights, SpecialTokens{}, CheckpointDType::kBF16);

  const auto loaded = Transformer::load(dir.str(), ModelLoadOptions().with_dtype(torch::kFloat32));
  torch::NoGradGuard no_grad;
  const auto ids = tokens();
  const auto original = Transformer::from_weights(config, weights);
  const auto expected = original->forward(ids);
  // Rounding the weights to bf16 moves each product by u_bf16 of its terms, once per weight on
  // the path, plus two float32 forward passes (tests/support/forward_bounds.h).
  const auto terms = test::tol::abs_matmul(final_normalized(original, ids), weights.unembed.t());
  const double relative = test::tol::weight_roundings(config) * test::tol::kBFloat16 +
                          2.0 * test::tol::forward_gamma(config, ids.size(1), config.n_layers, true);
  EXPECT_TRUE(test::tol::within(loaded->forward(ids), expected, relative * terms, "bf16 weights"));
  // Tight enough to see a position off by one.
  auto shifted = torch::cat({expected.narrow(1, 0, 1), expected.narrow(1, 0, ids.size(1) - 1)}, 1);
  EXPECT_FALSE(test::tol::within(loaded->forward(ids), shifted, relative * terms, "shifted"));
}

TEST(CheckpointWriter, ConfigIsTransformers4Llama) {
  const std::string text =
      llama_config_json(small_config(true), SpecialTokens{1, 2, 0}, CheckpointDType::kBF16);
  for (const char* expected :
       {"\"model_type\": \"llama\"", "\"LlamaForCausalLM\"", "\"rope_theta\": 5000.0",
        "\"num_key_value_heads\": 2", "\"tie_word_embeddings\": true",
        "\"torch_dtype\": \"bfloat16\"", "\"hidden_act\": \"silu\"", "\"pad_token_id\": 0"}) {
    EXPECT_NE(text.find(expected), std::string::npos) << expected << "\n" << text;
  }
}

TEST(ModelInit, TiedEmbeddingCountedOnce) {
  const ModelConfig tied = small_config(true), untied = small_config(false);
  const auto n_tied = parameters(init_llama_weights(tied, 1, torch::kCPU)).size();
  const auto n_untied = parameters(init_llama_weights(untied, 1, torch::kCPU)).size();
  EXPECT_EQ(n_tied + 1, n_untied);
  EXPECT_EQ(n_tied, 1u + 2u * 9u + 1u);
  for (const auto& p : parameters(init_llama_weights(tied, 1, torch::kCPU))) {
    EXPECT_TRUE(p.requires_grad());
  }
}

TEST(ModelInit, SameSeedSameWeights) {
  const ModelConfig c = small_config(false);
  const auto a = parameters(init_llama_weights(c, 5, torch::kCPU));
  const auto b = parameters(init_llama_weights(c, 5, torch::kCPU));
  const auto other = parameters(init_llama_weights(c, 6, torch::kCPU));
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(torch::equal(a[i], b[i]));
  EXPECT_FALSE(torch::equal(a[0], other[0]));
}

}  // namespace
}  // namespace headscope
