#include "gui/views/file_panel.h"

#include <QtWidgets/QHeaderView>
#include <QtWidgets/QLabel>
#include <QtWidgets/QTreeView>
#include <QtWidgets/QVBoxLayout>

#include "gui/models/file_tree_model.h"

namespace headscope::gui {

FilePanel::FilePanel(Workspace& workspace, QWidget* parent)
    : QWidget(parent),
      model_(new FileTreeModel(this)),
      errors_(new QLabel(this)),
      tree_(new QTreeView(this)) {
  errors_->setWordWrap(true);
  errors_->setStyleSheet("QLabel { color: #b00020; }");
  errors_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  errors_->hide();
  tree_->setModel(model_);
  tree_->setUniformRowHeights(true);
  tree_->header()->setSectionResizeMode(QHeaderView::ResizeToContents);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(errors_);
  layout->addWidget(tree_, 1);
  connect(model_, &FileTreeModel::read_failed, this, &FilePanel::show_error);
  connect(&workspace, &Workspace::file_added, this, [this, &workspace](int index) {
    model_->add_file(workspace.files()[static_cast<size_t>(index)]);
    tree_->expand(model_->index(model_->rowCount() - 1, 0));
  });
}

void FilePanel::show_error(const QString& message) {
  errors_->setText(errors_->text().isEmpty() ? message : errors_->text() + "\n" + message);
  errors_->show();
}

QString FilePanel::errors() const {
  return errors_->text();
}

}  // namespace headscope::gui
