#include <map>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "analyses/ablation/evaluation_samples.h"
#include "analyses/ablation/head_ablation.h"
#include "analyses/ablation/head_selection.h"
#include "core/base/error.h"
#include "tests/support/error_message.h"
#include "tests/support/fixtures.h"

namespace headscope {
namespace {

// A zoo model (2 layers x 4 heads) trained on IOI alone; see tests/fixtures/zoo/README.md.
std::shared_ptr<const Transformer> ioi_model() {
  static const std::shared_ptr<const Transformer> model = Transformer::load(
      test::fixture("zoo/ioi-2x4"), ModelLoadOptions().with_dtype(torch::kFloat32));
  return model;
}

std::vector<HeadRef> layer_heads(int64_t layer, int64_t n_heads) {
  std::vector<HeadRef> heads;
  for (int64_t h = 0; h < n_heads; ++h) heads.push_back({layer, h});
  return heads;
}

AblationOptions ioi(HeadInterventionKind method) {
  return AblationOptions().with_task("ioi").with_samples(32).with_seed(7).with_method(method);
}

TEST(Ablation, ZeroingALayerBreaksIoiAndNoHeadsChangesNothing) {
  const auto model = ioi_model();
  const int64_t n_heads = model->config().n_heads;
  const AblationResult none = ablate_heads(model, {}, ioi(HeadInterventionKind::kZero));
  EXPECT_GT(none.baseline.accuracy, 0.8);
  EXPECT_EQ(none.ablated.sample_correct, none.baseline.sample_correct);
  EXPECT_DOUBLE_EQ(none.ablated.answer_loss, none.baseline.answer_loss);
  // The result keeps the samples it scored: sample i from seed + i.
  const auto expected = evaluation_samples(model->config(), "ioi", 32, ioi({}).length, 7);
  ASSERT_EQ(none.samples.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(none.samples[i].tokens, expected[i].tokens) << i;
    EXPECT_EQ(none.samples[i].answer_begin, expected[i].answer_begin) << i;
  }

  for (int64_t layer = 0; layer < model->config().n_layers; ++layer) {
    const AblationResult r =
        ablate_heads(model, layer_heads(layer, n_heads), ioi(HeadInterventionKind::kZero));
    EXPECT_DOUBLE_EQ(r.baseline.accuracy, none.baseline.accuracy);
    EXPECT_LT(r.ablated.accuracy, r.baseline.accuracy - 0.2) << "layer " << layer;
    EXPECT_LT(*r.ablated.mean_logit_diff, *r.baseline.mean_logit_diff - 1.0) << "layer " << layer;
  }
}

TEST(Ablation, EveryMethodOnLayerZeroBreaksIoiEachItsOwnWay) {
  const auto model = ioi_model();
  // Layer 0 reads the names: each method, including masking the indirect object's key alone,
  // breaks IOI (measured on the fixture: accuracy 0.96 -> 0.0 to 0.3).
  const std::vector<HeadRef> heads = layer_heads(0, model->config().n_heads);
  std::map<std::string, double> loss;
  for (const auto method : {HeadInterventionKind::kZero, HeadInterventionKind::kMean,
                            HeadInterventionKind::kUniform, HeadInterventionKind::kNegInfKeys}) {
    const AblationResult r = ablate_heads(model, heads, ioi(method));
    EXPECT_LT(r.ablated.accuracy, r.baseline.accuracy - 0.4) << intervention_name(method);
    EXPECT_GT(r.ablated.answer_loss, r.baseline.answer_loss + 1.0) << intervention_name(method);
    loss[intervention_name(method)] = r.ablated.answer_loss;
  }
  EXPECT_GT(std::abs(loss["mean"] - loss["zero"]), 0.1);
  EXPECT_GT(std::abs(loss["uniform"] - loss["neg-inf"]), 0.1);
}

TEST(Ablation, TopAgainstRandomIsSeededAndExcludesTheTop) {
  const auto model = ioi_model();
  const ModelConfig& c = model->config();
  // Scores ranking layer 0 first.
  auto scores = torch::zeros({c.n_layers, c.n_heads}, torch::kFloat64);
  scores[0] = 1.0;
  const AblationOptions options = ioi(HeadInterventionKind::kZero).with_samples(16);
  const AblationCheck a = check_top_against_random(model, scores, 2, 4, 2, options);
  const AblationCheck b = check_top_against_random(model, scores, 2, 4, 2, options);
  EXPECT_EQ(format_heads(a.top), "0.0,0.1");
  ASSERT_EQ(a.random.size(), 2u);
  for (size_t d = 0; d < a.random.size(); ++d) {
    EXPECT_EQ(format_heads(a.random[d]), format_heads(b.random[d]));
    EXPECT_EQ(a.random_ablated[d].answer_loss, b.random_ablated[d].answer_loss);
    for (const HeadRef& h : a.random[d]) EXPECT_EQ(h.layer, 1);
  }
  EXPECT_NE(format_heads(a.random[0]), format_heads(a.random[1]));
  EXPECT_EQ(a.top_ablated.answer_loss,
            score_ablated(model, a.top,
                          evaluation_samples(c, "ioi", 16, options.length, options.seed), options)
                .answer_loss);
}

TEST(Ablation, RejectsBadInput) {
  const auto model = ioi_model();
  const AblationOptions options = ioi(HeadInterventionKind::kZero).with_samples(2);
  EXPECT_NE(test::error_message<InvalidInput>([&] {
              ablate_heads(model, {}, AblationOptions(options).with_task("sorting"));
            }).find("task 'sorting' is unknown; expected one of niah|ioi|colors|induction"),
            std::string::npos);
  EXPECT_NE(test::error_message<InvalidInput>([&] {
              ablate_heads(model, {{2, 0}}, options);
            }).find("head 2.0 does not exist"),
            std::string::npos);
  EXPECT_NE(test::error_message<InvalidInput>([&] {
              ablate_heads(model, {{0, 0}},
                           AblationOptions(options).with_method(HeadInterventionKind::kScale));
            }).find("scale"),
            std::string::npos);
  EXPECT_NE(
      test::error_message<InvalidInput>([&] {
        ablate_heads(model, {{0, 0}}, AblationOptions(options).with_task("niah").with_length(512));
      }).find("longer than the model's 64 positions"),
      std::string::npos);
  EXPECT_NE(test::error_message<InvalidInput>([&] {
              check_top_against_random(model, torch::zeros({2, 4}), 9, 0, 1, options);
            }).find("top 9 heads"),
            std::string::npos);
  EXPECT_THROW(check_top_against_random(model, torch::zeros({3, 4}), 1, 0, 1, options),
               InvalidInput);

  const auto random_model = Transformer::load(test::fixture("hf-tiny/llama"));
  EXPECT_NE(test::error_message<UnsupportedModel>([&] {
              ablate_heads(random_model, {}, options);
            }).find("zoo's word vocabulary"),
            std::string::npos);
}

}  // namespace
}  // namespace headscope
