#include <cmath>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "analyses/tasks/task_score.h"
#include "core/error.h"

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
  EXPECT_NEAR(*score.mean_logit_diff, 3.0, 1e-5);
  EXPECT_DOUBLE_EQ(*score.fraction_positive, 1.0);
  EXPECT_EQ(score.sample_correct, (std::vector<uint8_t>{1, 0}));
  EXPECT_TRUE(std::isnan(score.sample_logit_diff[1]));

  const auto lp = logits.log_softmax(-1);
  const double loss0 = -(lp[0][1][2].item<double>() + lp[0][2][3].item<double>()) / 2.0;
  const double loss1 = -(lp[1][1][2].item<double>() + lp[1][2][3].item<double>()) / 2.0;
  EXPECT_NEAR(score.answer_loss, (loss0 + loss1) / 2.0, 1e-5);
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
