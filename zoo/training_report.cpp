#include "zoo/training_report.h"

#include <algorithm>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/base/error.h"

namespace headscope {
namespace {

using nlohmann::ordered_json;

// About this many points summarise the loss curve, each the mean over its window of steps.
constexpr int64_t kCurvePoints = 50;

ordered_json score_json(const TaskScore& score) {
  ordered_json j;
  j["samples"] = score.samples;
  j["accuracy"] = score.accuracy;
  j["token_accuracy"] = score.token_accuracy;
  if (score.mean_logit_diff) j["mean_logit_diff"] = *score.mean_logit_diff;
  if (score.fraction_positive) j["fraction_positive"] = *score.fraction_positive;
  return j;
}

ordered_json loss_curve(const std::vector<double>& losses) {
  const auto n = static_cast<int64_t>(losses.size());
  const int64_t window = std::max<int64_t>(1, (n + kCurvePoints - 1) / kCurvePoints);
  ordered_json curve = ordered_json::array();
  for (int64_t begin = 0; begin < n; begin += window) {
    const int64_t end = std::min(n, begin + window);
    double sum = 0.0;
    for (int64_t i = begin; i < end; ++i) sum += losses[static_cast<size_t>(i)];
    curve.push_back({{"step", end}, {"loss", sum / static_cast<double>(end - begin)}});
  }
  return curve;
}

}  // namespace

TrainingReport::TrainingReport(const Recipe& recipe, int64_t steps, torch::Device device)
    : recipe_(recipe), steps_(steps), device_(device.str()) {}

void TrainingReport::add_eval(int64_t step, const std::map<std::string, TaskScore>& scores) {
  evals_.emplace_back(step, scores);
}

void TrainingReport::write(const std::string& path, const TrainResult& result) const {
  ordered_json j;
  j["recipe_name"] = recipe_.name;
  j["recipe"] = ordered_json::parse(recipe_.json_text);
  j["seed"] = recipe_.training.seed;
  j["steps"] = steps_;
  j["device"] = device_;
  j["seconds"] = result.seconds;
  j["tokens"] = result.tokens;
  ordered_json final_scores = ordered_json::object();
  for (const auto& [task, score] : result.final_scores) final_scores[task] = score_json(score);
  j["final"] = final_scores;
  ordered_json evals = ordered_json::array();
  for (const auto& [step, scores] : evals_) {
    ordered_json e{{"step", step}};
    for (const auto& [task, score] : scores) e[task] = score.accuracy;
    evals.push_back(e);
  }
  j["evals"] = evals;
  if (!result.losses.empty()) {
    j["initial_loss"] = result.losses.front();
    j["final_loss"] = result.losses.back();
  }
  j["loss_curve"] = loss_curve(result.losses);

  std::ofstream out(path, std::ios::trunc);
  out << j.dump(2) << "\n";
  if (!out.flush()) throw IoError("cannot write " + path);
}

}  // namespace headscope
