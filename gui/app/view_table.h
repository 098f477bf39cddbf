// The explorer's views, in the order of the main window's tabs. A new view is one new file in
// gui/views (a class deriving from ExplorerView, built on a Workspace) and one row in
// view_table.cpp; its name is also a --screenshot choice.
#pragma once

#include <vector>

#include "gui/models/workspace.h"
#include "gui/views/explorer_view.h"

namespace headscope::gui {

struct ViewEntry {
  const char* name;   // --screenshot VIEW
  const char* title;  // the tab's title
  ExplorerView* (*make)(Workspace& workspace, QWidget* parent);
};

const std::vector<ViewEntry>& explorer_views();

}  // namespace headscope::gui
