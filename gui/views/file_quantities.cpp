#include "gui/views/file_quantities.h"

#include <QtWidgets/QLabel>

#include "core/base/error.h"

namespace headscope::gui {

std::optional<std::vector<HeadQuantity>> file_quantities(const Workspace& workspace, int file,
                                                         QLabel& message) {
  try {
    return find_head_quantities(*workspace.files()[static_cast<size_t>(file)]);
  } catch (const Error& e) {
    message.setText(QString::fromStdString(e.what()));
    return std::nullopt;
  }
}

}  // namespace headscope::gui
