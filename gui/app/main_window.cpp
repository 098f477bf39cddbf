#include "gui/app/main_window.h"

#include <exception>

#include <QtWidgets/QFileDialog>
#include <QtWidgets/QMenu>
#include <QtWidgets/QMenuBar>
#include <QtWidgets/QMessageBox>
#include <QtWidgets/QSplitter>
#include <QtWidgets/QTabWidget>

#include "gui/app/view_table.h"
#include "gui/models/open_file.h"
#include "gui/views/file_panel.h"
#include "gui/views/view_export.h"

namespace headscope::gui {

MainWindow::MainWindow()
    : file_panel_(new FilePanel(workspace_, this)), tabs_(new QTabWidget(this)) {
  setWindowTitle(tr("headscope explorer"));
  for (const ViewEntry& entry : explorer_views()) {
    ExplorerView* view = entry.make(workspace_, tabs_);
    view->setObjectName(entry.name);
    tabs_->addTab(view, tr(entry.title));
    views_.push_back(view);
  }
  auto* splitter = new QSplitter(this);
  splitter->addWidget(file_panel_);
  splitter->addWidget(tabs_);
  splitter->setStretchFactor(0, 1);
  splitter->setStretchFactor(1, 3);
  // The panel's share before any resize: wide enough for names, types and shapes.
  splitter->setSizes({360, 920});
  setCentralWidget(splitter);
  QMenu* file = menuBar()->addMenu(tr("&File"));
  file->addAction(tr("&Open..."), QKeySequence::Open, this, [this] {
    const QStringList paths = QFileDialog::getOpenFileNames(
        this, tr("Open headscope files"), {}, tr("HDF5 files (*.h5 *.hdf5);;All files (*)"));
    std::vector<std::string> chosen;
    for (const QString& path : paths) chosen.push_back(path.toStdString());
    open_files(chosen);
  });
  file->addAction(tr("&Export view..."), this, [this] {
    const QString path = QFileDialog::getSaveFileName(this, tr("Export the view"), {},
                                                      tr("PNG, SVG or CSV (*.png *.svg *.csv)"));
    if (path.isEmpty()) return;
    try {
      export_view(*current_view(), current_view()->csv(), path.toStdString());
    } catch (const std::exception& e) {
      QMessageBox::warning(this, tr("Export"), QString::fromStdString(e.what()));
    }
  });
  file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);
}

std::vector<std::string> MainWindow::open_files(const std::vector<std::string>& paths) {
  std::vector<std::string> errors;
  for (const std::string& path : paths) {
    try {
      workspace_.add_file(OpenFile::open(path));
    } catch (const std::exception& e) {
      errors.emplace_back(e.what());
      file_panel_->show_error(QString::fromStdString(e.what()));
    }
  }
  return errors;
}

ExplorerView* MainWindow::view(const std::string& name) const {
  for (ExplorerView* v : views_) {
    if (v->objectName().toStdString() == name) return v;
  }
  return nullptr;
}

void MainWindow::show_view(const std::string& name) {
  if (ExplorerView* v = view(name)) tabs_->setCurrentWidget(v);
}

ExplorerView* MainWindow::current_view() const {
  return static_cast<ExplorerView*>(tabs_->currentWidget());
}

bool MainWindow::busy() const {
  for (const ExplorerView* v : views_) {
    if (v->busy()) return true;
  }
  return false;
}

}  // namespace headscope::gui
