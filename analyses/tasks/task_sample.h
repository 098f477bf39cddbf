// One instance of a synthetic task: the token sequence a model reads, where its answer is, and
// (for patching) a corrupted counterpart. Shared by every task generator, the trainer and the
// analyses that score models on tasks.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace headscope {

struct TaskSample {
  std::string task;             // "niah", "ioi", "colors", "induction"
  std::vector<int32_t> tokens;  // the whole sequence, answer included
  // The answer occupies tokens[answer_begin, answer_end); the model must predict each of them
  // from the positions before. Everything before answer_begin is the prompt.
  int64_t answer_begin = 0;
  int64_t answer_end = 0;
  // Positions of filler text (language-modelling loss), as [begin, end) ranges.
  std::vector<std::pair<int64_t, int64_t>> filler;
  // Where the model is compared on a wrong answer (IOI: the subject; colors: a distractor):
  // the logit difference is logit(tokens[answer_begin]) - logit(distractor) at
  // answer_begin - 1. -1 when the task has none.
  int32_t distractor = -1;
  // Same length as tokens, one change that should flip or break the answer (empty if none).
  std::vector<int32_t> corrupted;
  std::map<std::string, std::string> metadata;  // e.g. depth, length, template, needle span
};

}  // namespace headscope
