// Options shared by the task generators; each generator reads the fields it needs.
//
//   TaskSample s = needle_task(TaskOptions().with_seed(7).with_length(2048).with_depth(0.25));
#pragma once

#include <cstdint>

namespace headscope {

struct TaskOptions {
  uint64_t seed = 0;     // same seed, same sample
  int64_t length = 512;  // total tokens (niah exactly; induction: 1 + 2 * ((length - 1) / 2))
  double depth = 0.5;    // niah: where the needle goes, 0 = first sentence, 1 = after the last

  TaskOptions& with_seed(uint64_t v) { return seed = v, *this; }
  TaskOptions& with_length(int64_t v) { return length = v, *this; }
  TaskOptions& with_depth(double v) { return depth = v, *this; }
};

}  // namespace headscope
