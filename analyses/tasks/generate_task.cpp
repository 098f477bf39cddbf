#include "analyses/tasks/generate_task.h"

#include "analyses/tasks/colors_task.h"
#include "analyses/tasks/induction_task.h"
#include "analyses/tasks/ioi_task.h"
#include "analyses/tasks/needle_task.h"
#include "core/base/error.h"

namespace headscope {

const std::vector<std::string>& task_names() {
  static const std::vector<std::string> names = {"niah", "ioi", "colors", "induction"};
  return names;
}

TaskSample generate_task(std::string_view name, const TaskOptions& options) {
  if (name == "niah") return needle_task(options);
  if (name == "ioi") return ioi_task(options);
  if (name == "colors") return colors_task(options);
  if (name == "induction") return induction_task(options);
  std::string valid;
  for (const std::string& known : task_names()) valid += (valid.empty() ? "" : "|") + known;
  throw InvalidInput("generate_task: task \"" + std::string(name) +
                     "\" is unknown; valid: " + valid);
}

}  // namespace headscope
