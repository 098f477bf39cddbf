// Colored objects: "on the table i see a C1 O1 , a C2 O2 and a C3 O3 . what color is the Ok ?"
// -> Ck. Colors and objects are distinct; the distractor is the color of another listed object,
// and corrupted asks about that object instead (so its answer is the distractor).
//
// metadata: template, query (k, 0-based), other (the distractor's index), query_pos (position of
// the queried object in the question).
#pragma once

#include "analyses/tasks/task_options.h"
#include "analyses/tasks/task_sample.h"

namespace headscope {

TaskSample colors_task(const TaskOptions& options);

}  // namespace headscope
