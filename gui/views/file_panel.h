// The file panel: the open files' groups, datasets and attributes as a lazy tree, and the
// messages of files that could not be opened or read, shown in the window instead of a crash
// or a dialog that blocks a script.
#pragma once

#include <QtWidgets/QWidget>

#include "gui/models/workspace.h"

class QLabel;
class QTreeView;

namespace headscope::gui {

class FileTreeModel;

class FilePanel : public QWidget {
  Q_OBJECT

 public:
  explicit FilePanel(Workspace& workspace, QWidget* parent = nullptr);

  // Adds a line to the messages shown above the tree.
  void show_error(const QString& message);
  QString errors() const;
  QTreeView* tree() const { return tree_; }
  FileTreeModel* model() const { return model_; }

 private:
  FileTreeModel* model_;
  QLabel* errors_;
  QTreeView* tree_;
};

}  // namespace headscope::gui
