// Draws one head's attention map (full or block-pooled) with token-labelled axes, the value of
// the cell under the pointer on hover, zoom with the wheel around the pointer, pan by dragging,
// and a double click to see the whole map again.
#pragma once

#include <memory>

#include <QtCore/QPointF>
#include <QtCore/QRectF>
#include <QtGui/QImage>
#include <QtWidgets/QWidget>

#include "gui/models/attention_map.h"

namespace headscope::gui {

class AttentionCanvas : public QWidget {
 public:
  explicit AttentionCanvas(QWidget* parent = nullptr);

  // Null shows nothing. Resets the zoom.
  void set_map(std::shared_ptr<const AttentionMap> map);
  const std::shared_ptr<const AttentionMap>& map() const { return map_; }

  // The visible part of the map in cells (x: key, y: query); the whole map unzoomed.
  QRectF visible() const { return visible_; }
  // Zooms by `factor` (> 1: in) keeping the cell under `anchor` (widget coordinates) in place.
  void zoom(double factor, QPointF anchor);
  // Widget coordinates of a cell's centre, and the hover text at a point (empty off the map).
  QPointF cell_centre(int64_t row, int64_t col) const;
  QString tooltip_at(QPoint point) const;

  QSize sizeHint() const override { return {600, 600}; }

 protected:
  bool event(QEvent* event) override;
  void paintEvent(QPaintEvent* event) override;
  void wheelEvent(QWheelEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;
  void mouseMoveEvent(QMouseEvent* event) override;
  void mouseDoubleClickEvent(QMouseEvent* event) override;

 private:
  QRectF plot_area() const;
  QPointF to_cell(QPointF point) const;
  QString label(int64_t cell) const;  // the positions a cell covers, with the token if one

  std::shared_ptr<const AttentionMap> map_;
  QImage image_;  // one pixel per cell
  float high_ = 1;
  QRectF visible_;
  QPointF drag_from_;
};

}  // namespace headscope::gui
