// Task generators by name, for the CLI, the trainer and the analyses.
//
//   TaskSample s = generate_task("ioi", TaskOptions().with_seed(3));
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "analyses/tasks/task_options.h"
#include "analyses/tasks/task_sample.h"

namespace headscope {

// "niah", "ioi", "colors", "induction".
const std::vector<std::string>& task_names();

// InvalidInput naming `name` and listing the valid names when it is not one of them.
TaskSample generate_task(std::string_view name, const TaskOptions& options);

}  // namespace headscope
