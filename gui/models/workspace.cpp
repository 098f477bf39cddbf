#include "gui/models/workspace.h"

#include <utility>

namespace headscope::gui {

void Workspace::add_file(std::shared_ptr<const OpenFile> file) {
  files_.push_back(std::move(file));
  emit file_added(static_cast<int>(files_.size()) - 1);
}

void Workspace::select(const HeadSelection& selection) {
  if (selection == selection_) return;
  selection_ = selection;
  emit selection_changed(selection_);
}

void Workspace::select_head(int64_t layer, int64_t head) {
  HeadSelection selection = selection_;
  selection.layer = layer;
  selection.head = head;
  select(selection);
}

}  // namespace headscope::gui
