// Which queries of a task sample have known relevant keys, and which keys those are
// (docs/SNR.md, "Queries"): the position that predicts each answer token and the earlier token
// its answer copies.
//
//   niah:      every answer token a: query a - 1, relevant key the needle's value token the
//              answer copies (value_begin + a - answer_begin).
//   induction: every answer token a of the second copy: query a - 1, relevant key a - repeat
//              (the same token in the first copy).
//   ioi:       the one answer: query answer_begin - 1 ("... to"), relevant key the IO name.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "analyses/tasks/task_sample.h"

namespace headscope {

struct SnrQuery {
  int64_t sample = 0;             // index into the samples
  int64_t position = 0;           // the query's position
  std::vector<int64_t> relevant;  // sorted key positions, all <= position
};

// "niah", "induction", "ioi".
const std::vector<std::string>& snr_task_names();

// The queries of `sample` (sample index `index`) by the rules above. InvalidInput naming the
// task when it is not one of snr_task_names().
std::vector<SnrQuery> snr_queries(const TaskSample& sample, int64_t index);

}  // namespace headscope
