#include <cmath>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "analyses/tasks/task_score.h"
#include "core/base/error.h"
#include "tests/support/tolerance.h"

namespace headscope {
namespace {

// tokens [0, 1, 2, 3] with the answer [2, 4): predicted at positions 1 and 2.
TaskSample sample(int32_t distractor) {
  TaskSample s;
  s.task = "toy";
  s.tokens = {0, 1, 2, 3};
  s.answer_begin = 2;
  s.answer_end = 4;
  s.distractor = distractor;
  return s;
}

TEST(AblationTaskScore, AccuracyLossAndLogitDifferenceFromLogits) {
  const std::vector<TaskSample> batch = {sample(1), sample(-1)};
  auto logits = torch::zeros({2, 4, 5});
  // Sample 0: both answer tokens are the argmax; logit(2) - logit(1) = 3 at position 1.
  logits[0][1][2] = 4.0;
  logits[0][1][1] = 1.0;
  logits[0][2][3] = 2.0;
  // Sample 1: the first answer token right, the second wrong.
  logits[1][1][2] = 1.0;
  logits[1][2][0] = 5.0;
  TaskScorer scorer("toy");
  scorer.add(logits, batch);
  const TaskScore score = scorer.result();

  EXPECT_EQ(score.samples, 2);
  EXPECT_DOUBLE_EQ(score.accuracy, 0.5);
  EXPECT_DOUBLE_EQ(score.token_accuracy, 0.75);
  ASSERT_TRUE(score.mean_logit_diff.has_value());
  // Exact: log-probabilities in float64. In a row the scorer's float32 log-softmax shares one
  // lse, so the difference of two loses only the roundings of l - max and of (l - max) - log S,
  // each at most u |lp| (|l - max| <= |lp|).
  const auto lp = logits.to(torch::kFloat64).log_softmax(-1);
  const double u = test::tol::kFloat32;
  EXPECT_TRUE(test::tol::within(
      *score.mean_logit_diff, 3.0,
      2.0 * u * (lp[0][1][2].abs() + lp[0][1][1].abs()).item<double>(), "mean logit difference"));
  EXPECT_DOUBLE_EQ(*score.fraction_positive, 1.0);
  EXPECT_EQ(score.sample_correct, (std::vector<uint8_t>{1, 0}));
  EXPECT_TRUE(std::isnan(score.sample_logit_diff[1]));

  const double loss0 = -(lp[0][1][2].item<double>() + lp[0][2][3].item<double>()) / 2.0;
  const double loss1 = -(lp[1][1][2].item<double>() + lp[1][2][3].item<double>()) / 2.0;
  // A float32 log-softmax of V = 5 logits errs by gamma_{V+2} (log of a sum of V exponentials)
  // plus 4 u (max|l| + log V) (the subtractions); then float64 means.
  const double per_token = test::tol::gamma(7, u) + 4.0 * u * (5.0 + std::log(5.0));
  EXPECT_TRUE(test::tol::within(score.answer_loss, (loss0 + loss1) / 2.0, per_token,
                                "answer loss"));
}

TEST(AblationTaskScore, PadsToTheLongestSampleAndRejectsBadSpans) {
  TaskSample shorter = sample(-1);
  shorter.tokens = {0, 1, 2};
  shorter.answer_end = 3;
  const auto tokens = pad_samples({sample(-1), shorter}, 9);
  EXPECT_TRUE(torch::equal(tokens, torch::tensor({{0, 1, 2, 3}, {0, 1, 2, 9}}, torch::kInt64)));
  TaskSample bad = sample(-1);
  bad.answer_end = 5;
  EXPECT_THROW(pad_samples({bad}, 9), InvalidInput);
}

}  // namespace
}  // namespace headscope
