// The head grid's heatmap widget: draws one quantity with gui/render's draw_head_grid (the
// same picture the CLI writes to PNG), outlines the selected head, shows a cell's value on
// hover and reports clicks on cells.
#pragma once

#include <functional>
#include <memory>
#include <optional>

#include <QtGui/QImage>
#include <QtWidgets/QWidget>

#include "gui/models/head_values.h"
#include "gui/render/head_grid_image.h"

namespace headscope::gui {

class HeadGridCanvas : public QWidget {
 public:
  explicit HeadGridCanvas(QWidget* parent = nullptr);

  // Null shows nothing.
  void set_values(std::shared_ptr<const HeadValues> values);
  void set_selected(std::optional<HeadCell> cell);
  void on_click(std::function<void(HeadCell)> handler) { on_click_ = std::move(handler); }

  // The cell's centre in widget coordinates, and the hover text at a point (empty off the
  // cells): what a user sees, for tests.
  QPoint cell_centre(HeadCell cell) const;
  QString tooltip_at(QPoint point) const;

  QSize sizeHint() const override;

 protected:
  bool event(QEvent* event) override;
  void paintEvent(QPaintEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;
  void resizeEvent(QResizeEvent* event) override;

 private:
  HeadGridImageOptions options_for(QSize size) const;
  void redraw();

  std::shared_ptr<const HeadValues> values_;
  HeadGrid grid_;
  HeadGridImageOptions options_;
  QImage image_;
  std::optional<HeadCell> selected_;
  std::function<void(HeadCell)> on_click_;
};

}  // namespace headscope::gui
