// Induction: <bos> then a random word sequence of n tokens, repeated once. The answer is the
// second copy after its first token: that token is the cue nothing predicts, and each later one
// follows from the first copy.
// n = (options.length - 1) / 2, at least kInductionMinRepeat.
//
// corrupted: the first copy redrawn, so nothing earlier predicts the second. metadata:
// repeat_begin (first position of the second copy), repeat_length (n).
#pragma once

#include "analyses/tasks/task_options.h"
#include "analyses/tasks/task_sample.h"

namespace headscope {

inline constexpr int64_t kInductionMinRepeat = 2;

// InvalidInput naming "length" when it leaves fewer than kInductionMinRepeat tokens per copy.
TaskSample induction_task(const TaskOptions& options);

}  // namespace headscope
