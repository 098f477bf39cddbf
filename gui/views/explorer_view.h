// What the main window needs of every view in its tabs (gui/app/view_table.cpp lists them).
#pragma once

#include <QtWidgets/QWidget>

namespace headscope::gui {

class ExplorerView : public QWidget {
 public:
  using QWidget::QWidget;
  // Whether a read is still running; the screenshot mode waits until no view is busy.
  virtual bool busy() const = 0;
  // The data the view shows now (the visible region, the listed rows) as CSV text with a
  // header line; what `--screenshot VIEW --out FILE.csv` and File > Export write.
  virtual QString csv() const = 0;
};

}  // namespace headscope::gui
