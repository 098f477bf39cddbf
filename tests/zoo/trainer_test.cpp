#include "zoo/trainer.h"

#include <filesystem>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/model/transformer.h"
#include "tests/support/tolerance.h"
#include "tests/zoo/zoo_test_support.h"

namespace headscope {
namespace {

// tiny-ci's shape, trained on the in-test copy task. Small batches: on Debian's reference BLAS
// the unembedding's matmuls dominate a step.
Recipe copy_recipe(int64_t steps) {
  Recipe r = load_recipe("tiny-ci");
  r.training.steps = steps;
  r.training.batch_size = 8;
  r.training.eval_every = 0;
  r.training.eval_samples = 8;
  r.tasks = {TaskMix{"copy", 1.0, 10, 16}};
  return r;
}

TaskSample copy_task(const TaskMix& task, int64_t length, uint64_t seed) {
  return test::copy_sample(task, length, seed);
}

double mean(const std::vector<double>& v, size_t begin, size_t end) {
  double sum = 0.0;
  for (size_t i = begin; i < end; ++i) sum += v[i];
  return sum / static_cast<double>(end - begin);
}

TEST(Trainer, LossFallsDeterministically) {
  const Recipe recipe = copy_recipe(100);
  TrainOptions options;
  options.quiet = true;
  const TrainResult a = train(recipe, copy_task, options);
  ASSERT_EQ(a.losses.size(), 100u);
  const double initial = mean(a.losses, 0, 5), final = mean(a.losses, 90, 100);
  EXPECT_LT(final, 0.5 * initial) << "initial " << initial << " final " << final;
  EXPECT_EQ(a.final_scores.at("copy").samples, 8);

  const TrainResult b = train(recipe, copy_task, options);
  EXPECT_EQ(a.losses, b.losses);
}

TEST(Trainer, WritesLoadableCheckpointAndReport) {
  const test::ScratchDir dir;
  Recipe recipe = copy_recipe(4);
  recipe.training.checkpoint_every = 2;
  TrainOptions options;
  options.quiet = true;
  options.out_dir = dir.str();
  const TrainResult result = train(recipe, copy_task, options);

  EXPECT_TRUE(std::filesystem::exists(dir / "tokenizer.json"));
  EXPECT_TRUE(std::filesystem::exists(dir / "training.json"));
  EXPECT_TRUE(std::filesystem::exists(dir / "checkpoints/step-2/model.safetensors"));
  const auto model = Transformer::load(dir.str());
  const TaskScore score =
      score_samples(*model, {test::copy_sample(recipe.tasks[0], 14, 9)}, recipe.special.pad, 1);
  EXPECT_EQ(score.samples, 1);
  EXPECT_GE(score.token_accuracy, score.accuracy);
  EXPECT_EQ(result.final_scores.size(), 1u);
}

TEST(Trainer, WarmupThenCosine) {
  TrainingSettings s;
  s.lr = 1.0;
  s.warmup_steps = 10;
  s.min_lr_ratio = 0.1;
  EXPECT_DOUBLE_EQ(learning_rate(s, 110, 0), 0.1);
  EXPECT_DOUBLE_EQ(learning_rate(s, 110, 9), 1.0);
  // A float64 cosine of a rounded argument and a few products and sums of terms at most 1:
  // gamma_8 absolute.
  const double bound = test::tol::gamma(8, test::tol::kFloat64);
  EXPECT_TRUE(test::tol::within(learning_rate(s, 110, 60), 0.55, bound, "half way"));
  EXPECT_TRUE(test::tol::within(learning_rate(s, 110, 110), 0.1, bound, "end"));
}

}  // namespace
}  // namespace headscope
