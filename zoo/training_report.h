// training.json beside a trained model: the recipe, seed, steps, evaluations over time, the
// final per-task scores and a summary of the loss curve.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

#include "zoo/trainer.h"

namespace headscope {

class TrainingReport {
 public:
  TrainingReport(const Recipe& recipe, int64_t steps, torch::Device device);

  void add_eval(int64_t step, const std::map<std::string, TaskScore>& scores);
  // Throws IoError when the file cannot be written.
  void write(const std::string& path, const TrainResult& result) const;

 private:
  const Recipe& recipe_;
  int64_t steps_;
  std::string device_;
  std::vector<std::pair<int64_t, std::map<std::string, TaskScore>>> evals_;
};

}  // namespace headscope
