// The explorer's window: the file panel on the left, the views of view_table.cpp in tabs on the
// right, all sharing one Workspace (open files, selected head).
#pragma once

#include <string>
#include <vector>

#include <QtWidgets/QMainWindow>

#include "gui/models/workspace.h"
#include "gui/views/explorer_view.h"

class QTabWidget;

namespace headscope::gui {

class FilePanel;

class MainWindow : public QMainWindow {
  Q_OBJECT

 public:
  MainWindow();

  // Opens each file; one that cannot be opened (missing, truncated, not HDF5, not headscope's,
  // a newer format version) leaves its message in the file panel. Returns those messages.
  std::vector<std::string> open_files(const std::vector<std::string>& paths);

  Workspace& workspace() { return workspace_; }
  FilePanel* file_panel() const { return file_panel_; }
  // The view of that name in view_table.cpp (null for an unknown name), and bringing its tab to
  // the front.
  ExplorerView* view(const std::string& name) const;
  void show_view(const std::string& name);
  ExplorerView* current_view() const;
  bool busy() const;

 private:
  Workspace workspace_;
  FilePanel* file_panel_;
  QTabWidget* tabs_;
  std::vector<ExplorerView*> views_;
};

}  // namespace headscope::gui
