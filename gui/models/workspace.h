// What every view of one explorer window shares: the open files and the selected head (file,
// run, layer, head). Views change the selection through it and follow its signals, so a click in
// one view moves all of them.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include <QtCore/QObject>

#include "gui/models/open_file.h"

namespace headscope::gui {

struct HeadSelection {
  int file = -1;  // index into Workspace::files(); -1: nothing selected
  int64_t run = 0;
  int64_t layer = 0;
  int64_t head = 0;

  bool operator==(const HeadSelection& o) const {
    return file == o.file && run == o.run && layer == o.layer && head == o.head;
  }
  bool operator!=(const HeadSelection& o) const { return !(*this == o); }
};

class Workspace : public QObject {
  Q_OBJECT

 public:
  explicit Workspace(QObject* parent = nullptr) : QObject(parent) {}

  const std::vector<std::shared_ptr<const OpenFile>>& files() const { return files_; }
  void add_file(std::shared_ptr<const OpenFile> file);

  const HeadSelection& selection() const { return selection_; }
  // Emits selection_changed when it differs from the current one.
  void select(const HeadSelection& selection);
  // Another head of the selected file and run (a click in an analysis view).
  void select_head(int64_t layer, int64_t head);

 signals:
  void file_added(int index);
  void selection_changed(const headscope::gui::HeadSelection& selection);

 private:
  std::vector<std::shared_ptr<const OpenFile>> files_;
  HeadSelection selection_;
};

}  // namespace headscope::gui
