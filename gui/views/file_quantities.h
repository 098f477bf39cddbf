// The per-head quantities a view offers for one open file (the head grid's and the compare
// view's lists), or the reason there are none shown where the view shows its messages.
#pragma once

#include <optional>
#include <vector>

#include "gui/models/head_values.h"
#include "gui/models/workspace.h"

class QLabel;

namespace headscope::gui {

// find_head_quantities of the workspace's file `file`; nullopt, with the error's one line in
// `message`, when the file cannot be walked.
std::optional<std::vector<HeadQuantity>> file_quantities(const Workspace& workspace, int file,
                                                         QLabel& message);

}  // namespace headscope::gui
