// random_model_weights() makes exactly the tensors a checkpoint of the same config holds (for
// every fixture family), and a model built on them runs.
#include <gtest/gtest.h>

#include "core/checkpoint/checkpoint_weights.h"
#include "core/model/random_weights.h"
#include "core/model/transformer.h"
#include "tests/support/fixtures.h"

namespace headscope {
namespace {

std::vector<const torch::Tensor*> tensors(const ModelWeights& w) {
  std::vector<const torch::Tensor*> out{&w.embed, &w.pos_embed, &w.final_norm_w, &w.final_norm_b,
                                        &w.unembed};
  for (const auto& l : w.layers) {
    for (const auto* t :
         {&l.ln1_w, &l.ln1_b, &l.ln2_w, &l.ln2_b, &l.wq, &l.wk, &l.wv, &l.bq, &l.bk, &l.bv, &l.wo,
          &l.bo, &l.q_norm, &l.k_norm, &l.w_gate, &l.w_up, &l.w_down, &l.b_up, &l.b_down}) {
      out.push_back(t);
    }
  }
  return out;
}

class RandomWeights : public ::testing::TestWithParam<std::string> {};

TEST_P(RandomWeights, MatchCheckpointLayoutAndRun) {
  const std::string dir = test::fixture("hf-tiny/" + GetParam());
  const ModelConfig config = load_model_config(dir);
  const ModelWeights loaded =
      load_model_weights(config, CheckpointWeights::open(dir), WeightLoadOptions{});
  const ModelWeights random = random_model_weights(config, 7, torch::kFloat32, torch::kCPU);
  const auto a = tensors(loaded), b = tensors(random);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i]->defined(), b[i]->defined()) << "tensor " << i;
    if (a[i]->defined()) {
      EXPECT_EQ(a[i]->sizes(), b[i]->sizes()) << "tensor " << i;
    }
  }
  EXPECT_EQ(loaded.parameter_count(), random.parameter_count());

  auto model = Transformer::from_weights(config, random);
  auto logits = model->forward(torch::tensor({{1, 5, 9, 2}}, torch::kInt64));
  EXPECT_EQ(logits.sizes(), (std::vector<int64_t>{1, 4, config.vocab_size}));
  EXPECT_TRUE(torch::isfinite(logits).all().item<bool>());
  EXPECT_GT(logits.std().item<double>(), 0.0);
}

INSTANTIATE_TEST_SUITE_P(Families, RandomWeights,
                         ::testing::ValuesIn(test::kFixtureFamilies));

TEST(RandomWeightsSeed, SameSeedSameWeightsInTheRequestedDtype) {
  const ModelConfig config = load_model_config(test::fixture("hf-tiny/llama"));
  auto a = random_model_weights(config, 3, torch::kBFloat16, torch::kCPU);
  auto b = random_model_weights(config, 3, torch::kBFloat16, torch::kCPU);
  auto c = random_model_weights(config, 4, torch::kBFloat16, torch::kCPU);
  EXPECT_EQ(a.layers[0].wq.scalar_type(), torch::kBFloat16);
  EXPECT_TRUE(torch::equal(a.layers[1].w_down, b.layers[1].w_down));
  EXPECT_FALSE(torch::equal(a.layers[1].w_down, c.layers[1].w_down));
  EXPECT_EQ(
      checkpoint_compute_dtype(load_model_config(test::fixture("hf-tiny/llama_bf16")), torch::kCPU),
      torch::kBFloat16);
}

}  // namespace
}  // namespace headscope
