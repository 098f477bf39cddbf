// The model committed under zoo/models/needle-4x8 still loads and still does its tasks: a small
// held-out sample (seeds no training or recorded evaluation used) must reach the accuracies
// recorded in its training.json, less a margin for the small sample.
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "analyses/tasks/task_score.h"
#include "analyses/tasks/vocabulary.h"
#include "core/model/transformer.h"
#include "zoo/trainer.h"

namespace headscope {
namespace {

const std::string kModel = std::string(HEADSCOPE_SOURCE_DIR) + "/zoo/models/needle-4x8";

struct Check {
  std::string task;
  int64_t length, samples;
};

double recorded_accuracy(const nlohmann::json& training, const std::string& task) {
  double best = 0.0;
  for (const auto& r : training.at("held_out").at("results")) {
    if (r.at("task") == task) best = std::max(best, r.at("accuracy").get<double>());
  }
  return best;
}

TEST(ShippedModel, LoadsAndReachesItsRecordedAccuracies) {
  std::ifstream in(kModel + "/training.json");
  ASSERT_TRUE(in) << kModel;
  const auto training = nlohmann::json::parse(in);
  const auto model = Transformer::load(kModel, ModelLoadOptions().with_dtype(torch::kFloat32));
  EXPECT_EQ(model->config().n_layers, 4);
  EXPECT_EQ(model->config().n_heads, 8);
  EXPECT_GE(model->config().max_positions, 1024);

  // niah at two lengths covers short and long haystacks; depth comes from each seed.
  for (const Check& c : {Check{"niah", 160, 12}, Check{"niah", 700, 6}, Check{"ioi", 0, 24},
                         Check{"colors", 0, 24}, Check{"induction", 96, 12}}) {
    const TaskMix task{c.task, 1.0, c.length, c.length};
    std::vector<TaskSample> samples;
    for (int64_t i = 0; i < c.samples; ++i) {
      samples.push_back(generated_sample(task, c.length, 777000 + static_cast<uint64_t>(i)));
    }
    const TaskScore score = score_samples(*model, samples, Vocabulary::builtin().pad(), 8);
    const double recorded = recorded_accuracy(training, c.task);
    EXPECT_GE(recorded, 0.95) << c.task;
    EXPECT_GE(score.accuracy, recorded - 0.1) << c.task << " at length " << c.length;
    if (score.fraction_positive) {
      EXPECT_GE(*score.fraction_positive, 0.9) << c.task;
    }
  }
}

}  // namespace
}  // namespace headscope
