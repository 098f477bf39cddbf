#include <cmath>
#include <random>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "analyses/ablation/evaluation_samples.h"
#include "analyses/ablation/head_importance.h"
#include "core/error.h"
#include "hooks/head_interventions.h"
#include "hooks/hooked_model.h"
#include "tests/support/error_message.h"
#include "tests/support/fixtures.h"

namespace headscope {
namespace {

// A random token sequence with its last `answer` tokens as the answer; ids below 256 so any
// fixture's vocabulary holds them (the pad id 258 too).
TaskSample random_sample(uint64_t seed, int64_t length, int64_t answer) {
  std::mt19937_64 rng(seed);
  TaskSample s;
  s.task = "random";
  for (int64_t i = 0; i < length; ++i) s.tokens.push_back(static_cast<int32_t>(rng() % 256));
  s.answer_begin = length - answer;
  s.answer_end = length;
  return s;
}

std::shared_ptr<const Transformer> llama_f64() {
  return Transformer::load(test::fixture("hf-tiny/llama"),
                           ModelLoadOptions().with_dtype(torch::kFloat64));
}

// The sample's mean answer cross-entropy with head `h`'s hook_z scaled by `factor`, through the
// scale intervention: a code path independent of head_importance's per-sample multipliers.
double scaled_loss(const std::shared_ptr<const Transformer>& model, const TaskSample& s, HeadRef h,
                   double factor) {
  torch::NoGradGuard no_grad;
  HookedModel hooked(model);
  apply_interventions(hooked,
                      {scale_head(model->config(), h, torch::tensor(factor, torch::kFloat64))});
  std::vector<int64_t> ids(s.tokens.begin(), s.tokens.end());
  const auto tokens = torch::tensor(ids, torch::kInt64).unsqueeze(0);
  const auto log_probs = hooked.forward(tokens)[0].to(torch::kFloat64).log_softmax(-1);
  double loss = 0.0;
  for (int64_t t = s.answer_begin; t < s.answer_end; ++t) {
    loss -= log_probs[t - 1][s.tokens[static_cast<size_t>(t)]].item<double>();
  }
  return loss / static_cast<double>(s.answer_end - s.answer_begin);
}

TEST(Importance, GradientsMatchFiniteDifferencesPerSample) {
  const auto model = llama_f64();
  const ModelConfig& c = model->config();
  // Different lengths: the batch is padded, and padding must not leak into the gradients.
  const std::vector<TaskSample> samples = {random_sample(1, 24, 3), random_sample(2, 17, 4)};
  const auto mask = torch::ones({c.n_layers, c.n_heads});
  const HeadImportance importance = head_importance(model, samples, mask, 2);

  constexpr double kStep = 1e-2;
  // Heads whose samples pull in opposite directions: there |mean of gradients| would differ.
  int64_t opposed = 0;
  for (int64_t layer = 0; layer < c.n_layers; ++layer) {
    for (int64_t head = 0; head < c.n_heads; ++head) {
      // I_h = mean over samples of |dL/dxi_h|: the absolute value per sample, then the mean.
      double expected = 0.0, mean = 0.0;
      for (const TaskSample& s : samples) {
        const double up = scaled_loss(model, s, {layer, head}, 1.0 + kStep);
        const double down = scaled_loss(model, s, {layer, head}, 1.0 - kStep);
        const double gradient = (up - down) / (2.0 * kStep);
        expected += std::abs(gradient) / static_cast<double>(samples.size());
        mean += gradient / static_cast<double>(samples.size());
      }
      opposed += expected - std::abs(mean) > 1e-2 * expected ? 1 : 0;
      const double got = importance.raw[layer][head].item<double>();
      EXPECT_NEAR(got, expected, 1e-4 * expected + 1e-7) << "head " << layer << "." << head;
      EXPECT_GT(got, 0.0);
    }
  }
  EXPECT_GT(opposed, 0);
}

TEST(Importance, LayersAreL2NormalisedOverKeptHeadsAndAPrunedHeadIsAZeroedOne) {
  const auto model = llama_f64();
  const ModelConfig& c = model->config();
  const std::vector<TaskSample> samples = {random_sample(3, 20, 2), random_sample(4, 20, 2)};
  auto mask = torch::ones({c.n_layers, c.n_heads});
  mask[0][1] = 0.0;
  const HeadImportance pruned = head_importance(model, samples, mask, 1);

  EXPECT_EQ(pruned.normalized[0][1].item<double>(), 0.0);
  for (int64_t layer = 0; layer < c.n_layers; ++layer) {
    EXPECT_NEAR(pruned.normalized[layer].norm().item<double>(), 1.0, 1e-9);
  }
  // The multiplier at 0 is zero ablation: the same task loss as zero_head.
  HookedModel hooked(model);
  apply_interventions(hooked, {zero_head(c, {0, 1})});
  const TaskScore zeroed =
      score_samples(hooked_logits(hooked), model->device(), samples, /*pad_id=*/258, 2);
  EXPECT_NEAR(pruned.score.answer_loss, zeroed.answer_loss, 1e-5);
  const HeadImportance full = head_importance(model, samples, torch::ones_like(mask), 2);
  EXPECT_GT(std::abs(full.score.answer_loss - pruned.score.answer_loss), 1e-6);
}

TEST(Importance, PruningCurveStopsUnderTheThresholdAndKeepsTheLastGoodMask) {
  const auto model = Transformer::load(test::fixture("zoo/ioi-2x4"),
                                       ModelLoadOptions().with_dtype(torch::kFloat32));
  const ImportanceOptions options = ImportanceOptions().with_task("ioi").with_samples(16);
  const ImportanceResult r = prune_by_importance(model, options);
  const int64_t total = 8;  // 2 layers x 4 heads: one head per 10% step

  ASSERT_GE(r.curve.size(), 2u);
  EXPECT_EQ(r.curve[0].heads_pruned, 0);
  EXPECT_DOUBLE_EQ(r.curve[0].metric, r.unpruned_metric);
  EXPECT_GT(r.unpruned_metric, 0.8);
  const double floor = 0.9 * r.unpruned_metric;
  for (size_t i = 1; i < r.curve.size(); ++i) {
    EXPECT_EQ(r.curve[i].heads_pruned, static_cast<int64_t>(i));
    if (i + 1 < r.curve.size()) {
      EXPECT_GE(r.curve[i].metric, floor) << i;
    }
  }
  const PruningStep& last = r.curve.back();
  const bool fell = last.metric < floor;
  EXPECT_TRUE(fell || last.heads_pruned == total);
  // The mask is the one before the fall; each pruned head was pruned at a step up to it.
  const int64_t kept_steps = last.heads_pruned - (fell ? 1 : 0);
  EXPECT_EQ(static_cast<int64_t>(r.mask.sum().item<double>()), total - kept_steps);
  for (int64_t layer = 0; layer < 2; ++layer) {
    for (int64_t head = 0; head < 4; ++head) {
      const int64_t step = r.pruned_at[layer][head].item<int64_t>();
      EXPECT_EQ(r.mask[layer][head].item<double>() == 0.0, step >= 1 && step <= kept_steps);
    }
  }
  // The first head pruned is the least important of the unpruned model.
  const auto first = (r.pruned_at == 1).nonzero();
  ASSERT_EQ(first.size(0), 1);
  EXPECT_EQ(r.importance[first[0][0]][first[0][1]].item<double>(),
            r.importance.min().item<double>());
  const HeadImportance again =
      head_importance(model, evaluation_samples(model->config(), "ioi", 16, options.length, 0),
                      torch::ones({2, 4}), options.batch_size);
  EXPECT_TRUE(torch::allclose(again.normalized, r.importance));
}

TEST(Importance, RejectsBadOptionsAndModelsOutsideTheTaskVocabulary) {
  const auto model = Transformer::load(test::fixture("hf-tiny/llama"));
  const std::string vocabulary = test::error_message<UnsupportedModel>(
      [&] { prune_by_importance(model, ImportanceOptions().with_task("ioi").with_samples(2)); });
  EXPECT_NE(vocabulary.find("vocab_size 512"), std::string::npos) << vocabulary;
  EXPECT_NE(test::error_message<InvalidInput>([&] {
              prune_by_importance(model, ImportanceOptions().with_task("sorting"));
            }).find("task 'sorting' is unknown"),
            std::string::npos);
  EXPECT_NE(test::error_message<InvalidInput>([&] {
              prune_by_importance(model, ImportanceOptions().with_task("ioi").with_threshold(1.5));
            }).find("threshold"),
            std::string::npos);
  EXPECT_NE(test::error_message<InvalidInput>([&] {
              prune_by_importance(model,
                                  ImportanceOptions().with_task("ioi").with_step_fraction(0.0));
            }).find("step fraction"),
            std::string::npos);
  EXPECT_THROW(parse_prune_metric("f1", "--metric"), InvalidInput);
  TaskScore no_distractor;
  no_distractor.task = "induction";
  EXPECT_NE(test::error_message<InvalidInput>([&] {
              metric_value(no_distractor, PruneMetric::kLogitDiff);
            }).find("no distractor"),
            std::string::npos);
}

}  // namespace
}  // namespace headscope
