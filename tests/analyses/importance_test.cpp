#include <cmath>
#include <random>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "analyses/ablation/evaluation_samples.h"
#include "analyses/ablation/head_importance.h"
#include "core/base/error.h"
#include "hooks/head_interventions.h"
#include "hooks/hooked_model.h"
#include "tests/support/error_message.h"
#include "tests/support/fixtures.h"
#include "tests/support/tolerance.h"

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

// The logits [T, V] (float64) of the sample with head `h`'s hook_z scaled by `factor`, through
// the scale intervention: a code path independent of head_importance's per-sample multipliers.
torch::Tensor scaled_logits(const std::shared_ptr<const Transformer>& model, const TaskSample& s,
                            HeadRef h, double factor) {
  torch::NoGradGuard no_grad;
  HookedModel hooked(model);
  apply_interventions(hooked,
                      {scale_head(model->config(), h, torch::tensor(factor, torch::kFloat64))});
  std::vector<int64_t> ids(s.tokens.begin(), s.tokens.end());
  const auto tokens = torch::tensor(ids, torch::kInt64).unsqueeze(0);
  return hooked.forward(tokens)[0].to(torch::kFloat64);
}

// The rows predicting the answer tokens, and those tokens.
torch::Tensor answer_rows(const torch::Tensor& per_position, const TaskSample& s) {
  return per_position.narrow(0, s.answer_begin - 1, s.answer_end - s.answer_begin);
}
torch::Tensor answer_targets(const TaskSample& s) {
  std::vector<int64_t> ids(s.tokens.begin() + s.answer_begin, s.tokens.begin() + s.answer_end);
  return torch::tensor(ids, torch::kInt64).unsqueeze(1);
}

// The sample's mean answer cross-entropy, in float64.
double answer_loss(const torch::Tensor& logits, const TaskSample& s) {
  const auto log_probs = answer_rows(logits.log_softmax(-1), s);
  return -log_probs.gather(1, answer_targets(s)).mean().item<double>();
}

TEST(Importance, GradientsMatchFiniteDifferencesPerSample) {
  const auto model = llama_f64();
  const ModelConfig& c = model->config();
  // Different lengths: the batch is padded, and padding must not leak into the gradients.
  const std::vector<TaskSample> samples = {random_sample(1, 24, 3), random_sample(2, 17, 4)};
  const auto mask = torch::ones({c.n_layers, c.n_heads});
  const HeadImportance importance = head_importance(model, samples, mask, 2);

  constexpr double kStep = 1e-2;
  const double n_samples = static_cast<double>(samples.size());
  // Heads whose samples pull in opposite directions by more than the bound: there a mean of
  // gradients instead of a mean of their absolute values would fail the check.
  int64_t opposed = 0;
  for (int64_t layer = 0; layer < c.n_layers; ++layer) {
    for (int64_t head = 0; head < c.n_heads; ++head) {
      // I_h = mean over samples of |dL/dxi_h|: the absolute value per sample, then the mean.
      double expected = 0.0, mean = 0.0, bound = 0.0;
      for (const TaskSample& s : samples) {
        auto at = [&](double factor) { return scaled_logits(model, s, {layer, head}, factor); };
        const auto up = at(1.0 + kStep), down = at(1.0 - kStep);
        const auto half_up = at(1.0 + kStep / 2), half_down = at(1.0 - kStep / 2);
        const double coarse = (answer_loss(up, s) - answer_loss(down, s)) / (2.0 * kStep);
        const double gradient = (answer_loss(half_up, s) - answer_loss(half_down, s)) / kStep;
        expected += std::abs(gradient) / n_samples;
        mean += gradient / n_samples;
        // A central difference errs by c h^2 + O(h^4): the finer one's error is
        // (coarse - fine) / 3 to leading order, and twice that covers the rest.
        bound += 2.0 / 3.0 * std::abs(coarse - gradient) / n_samples;
        // head_importance takes the log-softmax in float32: dL/dlogits = (softmax - onehot) / n
        // errs by gamma_{V+5} (p + onehot) / n (u = 2^-24), plus 2 u max|l| p for the logits'
        // cast, reaching dL/dxi through the logits' derivative J (central difference). The
        // float64 forward and backward (2^-53) are neglected: 2^-29 of this.
        const auto logits = at(1.0);
        const auto j = answer_rows((half_up - half_down) / kStep, s).abs();
        const auto p = answer_rows(logits.softmax(-1), s);
        const auto onehot = torch::zeros_like(p).scatter_(1, answer_targets(s), 1.0);
        const double g = test::tol::gamma(c.vocab_size + 5, test::tol::kFloat32);
        const double cast = 2.0 * test::tol::kFloat32 * logits.abs().max().item<double>();
        bound += ((g + cast) * (p * j).sum().item<double>() + g * (onehot * j).sum().item<double>()) /
                 static_cast<double>(p.size(0)) / n_samples;
      }
      const double got = importance.raw[layer][head].item<double>();
      EXPECT_TRUE(test::tol::within(got, expected, bound,
                                    "head " + std::to_string(layer) + "." + std::to_string(head)));
      EXPECT_GT(got, 0.0);
      opposed += expected - std::abs(mean) > bound ? 1 : 0;
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
    // float64: the norm of n heads, the division, the norm again (the 1e-20 that keeps 0/0 away
    // is far below this).
    EXPECT_TRUE(test::tol::within(pruned.normalized[layer].norm().item<double>(), 1.0,
                                  test::tol::gamma(2 * c.n_heads + 4, test::tol::kFloat64),
                                  "layer norm"));
  }
  // The multiplier at 0 is zero ablation: the same task loss as zero_head. Both take the
  // log-softmax of V logits in float32: log Σ exp errs by gamma_{V+2} (a relative error of the
  // sum), the subtractions and the cast by 4 u (max|l| + log V); then a mean of the tokens'
  // losses. Twice that, for the two computations (the float64 forward is 2^-29 of it).
  torch::Tensor max_logit = torch::zeros({}, torch::kFloat64);
  for (const TaskSample& s : samples) {
    std::vector<int64_t> ids(s.tokens.begin(), s.tokens.end());
    torch::NoGradGuard no_grad;
    const auto logits = model->forward(torch::tensor(ids, torch::kInt64).unsqueeze(0));
    max_logit = torch::maximum(max_logit, logits.abs().max().to(torch::kFloat64));
  }
  const double u = test::tol::kFloat32;
  const double per_token =
      test::tol::gamma(c.vocab_size + 2, u) +
      4.0 * u * (max_logit.item<double>() + std::log(static_cast<double>(c.vocab_size)));
  const double loss_bound =
      2.0 * (per_token + test::tol::gamma(4, u) * pruned.score.answer_loss);  // 4 answer tokens
  HookedModel hooked(model);
  apply_interventions(hooked, {zero_head(c, {0, 1})});
  const TaskScore zeroed =
      score_samples(hooked_logits(hooked), model->device(), samples, /*pad_id=*/258, 2);
  EXPECT_TRUE(test::tol::within(pruned.score.answer_loss, zeroed.answer_loss, loss_bound,
                                "pruned against zeroed loss"));
  // Pruning really changes the loss: by more than the rounding the check allows.
  const HeadImportance full = head_importance(model, samples, torch::ones_like(mask), 2);
  EXPECT_GT(std::abs(full.score.answer_loss - pruned.score.answer_loss), loss_bound);
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
  // The same ops on the same values: no rounding differs.
  EXPECT_TRUE(torch::equal(again.normalized, r.importance));
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
  TaskScore no_distractor;
  no_distractor.task = "induction";
  EXPECT_NE(test::error_message<InvalidInput>([&] {
              metric_value(no_distractor, PruneMetric::kLogitDiff);
            }).find("no distractor"),
            std::string::npos);
}

}  // namespace
}  // namespace headscope
