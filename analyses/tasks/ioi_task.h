// Indirect object identification: "when A and B went to the PLACE , B gave a OBJECT to" -> A.
// The indirect object (IO) is the answer and the repeated subject (S) the distractor; ABBA
// templates name IO first, BABA ones S first.
//
// corrupted (ABC): the second mention of S, the giver, is a third name, so the sentence no longer
// says who is left over. metadata: template, order (ABBA|BABA), io, s, c (the third name),
// io_pos, s1_pos, s2_pos (token positions of the names in the prompt).
#pragma once

#include "analyses/tasks/task_options.h"
#include "analyses/tasks/task_sample.h"

namespace headscope {

TaskSample ioi_task(const TaskOptions& options);

}  // namespace headscope
