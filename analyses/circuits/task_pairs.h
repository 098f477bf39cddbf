// Clean/corrupted prompt pairs that activation and path patching run on, from the built-in tasks
// (analyses/tasks) or a user's file (patching_dataset.h). Every pair is scored at one position:
// the metric compares the logits of `answer` (and `distractor`) there.
//
//   std::vector<PatchingPair> pairs = task_pairs(model->config(), "ioi", 100, 256, 0);
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "analyses/tasks/task_sample.h"
#include "core/checkpoint/model_config.h"

namespace headscope {

struct PatchingPair {
  std::vector<int32_t> clean;
  std::vector<int32_t> corrupted;  // same length as clean
  int32_t answer = 0;
  int32_t distractor = -1;  // -1: none (the logit difference cannot be computed)
  int64_t position = 0;     // the scored position: the logits predicting the answer
  std::string source;       // where it came from, for errors ("ioi sample 3", "pairs.jsonl:7")
};

// The prompt of a task sample (its tokens before the answer) and its corrupted twin, scored at
// the prompt's last position on the first answer token; the distractor is the task's (IOI: the
// subject, colors: the other object's color; niah and induction have none). InvalidInput when
// the task gives no corrupted twin or one of another length.
PatchingPair pair_from_sample(const TaskSample& sample, const std::string& source);

// n pairs of `task` from evaluation_samples (sample i has seed seed + i), checked against the
// model's positions and vocabulary there.
std::vector<PatchingPair> task_pairs(const ModelConfig& config, const std::string& task, int64_t n,
                                     int64_t length, uint64_t seed);

// The first pair without a distractor, or nullptr: the logit difference needs one for every pair.
const PatchingPair* pair_without_distractor(const std::vector<PatchingPair>& pairs);

}  // namespace headscope
