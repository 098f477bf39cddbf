// The task samples an analysis scores a model on, reproducible from (task, n, length, seed).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "analyses/tasks/task_sample.h"
#include "core/checkpoint/model_config.h"

namespace headscope {

// n samples of `task`: sample i has seed seed + i, and niah puts its needle at the evenly spaced
// depth (i + 0.5) / n. InvalidInput for an unknown task, n < 1, a bad length, or samples the
// model cannot read (longer than its positions, or tokens beyond its vocabulary: the tasks are
// written in the zoo's word vocabulary, analyses/tasks/vocabulary.h).
std::vector<TaskSample> evaluation_samples(const ModelConfig& config, const std::string& task,
                                           int64_t n, int64_t length, uint64_t seed);

// "niah|ioi|colors|induction"; InvalidInput listing them when `task` is none of them.
void check_task_name(const std::string& task);

}  // namespace headscope
