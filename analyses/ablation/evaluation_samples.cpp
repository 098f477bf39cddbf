#include "analyses/ablation/evaluation_samples.h"

#include <algorithm>

#include "analyses/tasks/generate_task.h"
#include "core/base/error.h"

namespace headscope {

void check_task_name(const std::string& task) {
  const std::vector<std::string>& names = task_names();
  if (std::find(names.begin(), names.end(), task) != names.end()) return;
  std::string valid;
  for (const std::string& known : names) valid += (valid.empty() ? "" : "|") + known;
  throw InvalidInput("task '" + task + "' is unknown; expected one of " + valid);
}

std::vector<TaskSample> evaluation_samples(const ModelConfig& config, const std::string& task,
                                           int64_t n, int64_t length, uint64_t seed) {
  check_task_name(task);
  if (n < 1) throw InvalidInput("samples: expected at least 1, got " + std::to_string(n));
  if (length < 1) throw InvalidInput("length: expected at least 1, got " + std::to_string(length));
  std::vector<TaskSample> samples;
  samples.reserve(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const double depth = (static_cast<double>(i) + 0.5) / static_cast<double>(n);
    samples.push_back(generate_task(task, TaskOptions()
                                              .with_seed(seed + static_cast<uint64_t>(i))
                                              .with_length(length)
                                              .with_depth(depth)));
    const TaskSample& s = samples.back();
    const auto size = static_cast<int64_t>(s.tokens.size());
    if (size > config.max_positions) {
      throw InvalidInput(task + " sample of " + std::to_string(size) +
                         " tokens is longer than the model's " +
                         std::to_string(config.max_positions) + " positions; lower the length");
    }
    const int32_t top = *std::max_element(s.tokens.begin(), s.tokens.end());
    if (top >= config.vocab_size) {
      throw UnsupportedModel(
          "the " + task + " task is written in the zoo's word vocabulary (token id " +
          std::to_string(top) + "), beyond this model's vocab_size " +
          std::to_string(config.vocab_size) + "; use a model trained by `headscope zoo train`");
    }
  }
  return samples;
}

}  // namespace headscope
