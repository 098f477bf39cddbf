// Scores a model on task samples: exact match of the answer by teacher-forced argmax (the greedy
// answer whenever every answer token is right), and the logit difference against the distractor.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "analyses/tasks/task_sample.h"
#include "core/transformer.h"

namespace headscope {

struct TaskScore {
  std::string task;
  int64_t samples = 0;
  double accuracy = 0.0;  // fraction with every answer token the argmax
  // Fraction of all answer tokens that are the argmax: progress on long answers (induction's
  // second copy) long before whole answers come out right.
  double token_accuracy = 0.0;
  // Over samples with a distractor: mean logit(answer) - logit(distractor) at the first answer
  // position, and the fraction of those differences above zero.
  std::optional<double> mean_logit_diff;
  std::optional<double> fraction_positive;
};

TaskScore score_samples(const Transformer& model, const std::vector<TaskSample>& samples,
                        int64_t pad_id, int64_t batch_size);

}  // namespace headscope
