// Draws one head's attention map (full or block-pooled) with token-labelled axes, the value of
// the cell under the pointer on hover, zoom with the wheel around the pointer, pan by dragging,
// and a double click to see the whole map again. Over a block map it draws the detail of the
// zoomed-in region (exact rows or top-k lists, gui/models/attention_detail.h) that the view
// reads when the visible region is small; a click picks a (query, key) position.
#pragma once

#include <functional>
#include <memory>
#include <optional>

#include <QtCore/QPointF>
#include <QtCore/QRectF>
#include <QtGui/QImage>
#include <QtWidgets/QWidget>

#include "gui/models/attention_detail.h"
#include "gui/models/attention_map.h"

class QPainter;

namespace headscope::gui {

class AttentionCanvas : public QWidget {
 public:
  explicit AttentionCanvas(QWidget* parent = nullptr);

  // How values become colours: probabilities and masses on the heat scale by their square root
  // (0 .. the largest), or a signed difference of two maps on a diverging scale symmetric about
  // 0 (-max|v| .. max|v|), linear.
  enum class Scale { kSqrt, kDiverging };
  // Null shows nothing. Resets the zoom and drops the detail.
  void set_map(std::shared_ptr<const AttentionMap> map, Scale scale = Scale::kSqrt);
  const std::shared_ptr<const AttentionMap>& map() const { return map_; }
  // Drawn over the map where its box is visible; null: none.
  void set_detail(std::shared_ptr<const AttentionDetail> detail);
  const std::shared_ptr<const AttentionDetail>& detail() const { return detail_; }

  // Called after every zoom, pan or reset, and with the (query, key) positions of a click.
  void on_view_changed(std::function<void()> handler) { on_view_changed_ = std::move(handler); }
  void on_pick(std::function<void(int64_t, int64_t)> handler) { on_pick_ = std::move(handler); }
  // The positions the visible region covers (whole cells).
  PositionBox visible_positions() const;
  // Shows these positions (as closely as the cells allow) and marks (query, key).
  void show_positions(const PositionBox& box);
  void set_marked(std::optional<std::pair<int64_t, int64_t>> query_key);
  // The (query, key) positions under a widget point; nothing off the map.
  std::optional<std::pair<int64_t, int64_t>> position_at(QPoint point) const;

  // The visible part of the map in cells (x: key, y: query); the whole map unzoomed.
  QRectF visible() const { return visible_; }
  // Shows exactly these cells (clamped to the map): another canvas's visible() over a map of
  // the same cells, so that two maps zoom and pan together.
  void set_visible(const QRectF& cells);
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
  void mouseReleaseEvent(QMouseEvent* event) override;
  void mouseDoubleClickEvent(QMouseEvent* event) override;

 private:
  QRectF plot_area() const;
  QPointF to_cell(QPointF point) const;
  QString label(int64_t cell) const;  // the positions a cell covers, with the token if one
  QString position_label(int64_t position) const;
  QColor colour(float value, float high) const;
  void draw_colour_bar(QPainter& painter, const QRectF& area) const;
  QRectF cells_of(const PositionBox& box) const;  // a box in cell coordinates
  double smallest_side() const;                   // of the visible region, in cells
  void view_changed();

  std::shared_ptr<const AttentionMap> map_;
  QImage image_;  // one pixel per cell
  Scale scale_ = Scale::kSqrt;
  float high_ = 1;  // the largest value (|value| on the diverging scale)
  std::shared_ptr<const AttentionDetail> detail_;
  QImage detail_image_;  // one pixel per position of the detail's box; clear where unknown
  float detail_high_ = 1;
  std::optional<std::pair<int64_t, int64_t>> marked_;
  QRectF visible_;
  QPointF drag_from_;
  bool dragged_ = false;
  std::function<void()> on_view_changed_;
  std::function<void(int64_t, int64_t)> on_pick_;
};

}  // namespace headscope::gui
