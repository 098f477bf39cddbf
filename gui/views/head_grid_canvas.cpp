#include "gui/views/head_grid_canvas.h"

#include <algorithm>
#include <cmath>

#include <QtGui/QMouseEvent>
#include <QtGui/QPainter>

#include "gui/views/hover_tooltip.h"

namespace headscope::gui {
namespace {

// Cells of 12 to 56 pixels: 56 is the PNG's size; below 40 the values no longer fit in a cell
// and are left to the hover text and the rank table.
constexpr int kMinCell = 12, kMaxCell = 56, kAnnotatedCell = 40;
// The margins draw_head_grid adds around the cells, measured on a 1 x 1 grid.
QSize margins(const HeadGridImageOptions& options) {
  const HeadGrid one{"", "", {{0.0}}};
  return head_grid_image_size(one, options) - QSize(options.cell, options.cell);
}

}  // namespace

HeadGridCanvas::HeadGridCanvas(QWidget* parent) : QWidget(parent) {
  setMouseTracking(true);
  setMinimumSize(200, 150);
}

void HeadGridCanvas::set_values(std::shared_ptr<const HeadValues> values) {
  values_ = std::move(values);
  grid_ = HeadGrid{};
  if (values_ && values_->layers > 0 && values_->heads > 0) {
    grid_.title = values_->quantity.label;
    grid_.unit = values_->quantity.unit;
    for (int64_t l = 0; l < values_->layers; ++l) {
      grid_.value.emplace_back(values_->values.begin() + l * values_->heads,
                               values_->values.begin() + (l + 1) * values_->heads);
    }
  }
  redraw();
  updateGeometry();
}

void HeadGridCanvas::set_selected(std::optional<HeadCell> cell) {
  selected_ = cell;
  update();
}

HeadGridImageOptions HeadGridCanvas::options_for(QSize size) const {
  HeadGridImageOptions options;
  if (grid_.value.empty()) return options;
  const QSize fixed = margins(HeadGridImageOptions().with_cell(1));
  const int layers = static_cast<int>(grid_.value.size());
  const int heads = static_cast<int>(grid_.value[0].size());
  const int fit =
      std::min((size.width() - fixed.width()) / heads, (size.height() - fixed.height()) / layers);
  options.cell = std::clamp(fit, kMinCell, kMaxCell);
  options.annotate = options.cell >= kAnnotatedCell;
  return options;
}

void HeadGridCanvas::redraw() {
  if (grid_.value.empty()) {
    image_ = QImage();
  } else {
    options_ = options_for(size());
    image_ = QImage(head_grid_image_size(grid_, options_), QImage::Format_RGB32);
    draw_head_grid(grid_, image_, options_);
  }
  update();
}

QSize HeadGridCanvas::sizeHint() const {
  if (grid_.value.empty()) return {400, 300};
  return head_grid_image_size(grid_, HeadGridImageOptions().with_cell(kAnnotatedCell));
}

QPoint HeadGridCanvas::cell_centre(HeadCell cell) const {
  return head_grid_cell_rect(grid_, options_, cell.layer, cell.head).center();
}

QString HeadGridCanvas::tooltip_at(QPoint point) const {
  if (!values_ || grid_.value.empty() || point.x() >= image_.width() ||
      point.y() >= image_.height()) {
    return {};
  }
  const std::optional<HeadCell> cell = head_grid_cell_at(grid_, options_, point);
  if (!cell) return {};
  const double v = values_->at(cell->layer, cell->head);
  return tr("layer %1, head %2: %3")
      .arg(cell->layer)
      .arg(cell->head)
      .arg(std::isnan(v) ? tr("no value") : QString::number(v, 'g', 6));
}

bool HeadGridCanvas::event(QEvent* event) {
  return answer_tooltip(*this, event, [this](QPoint point) { return tooltip_at(point); }) ||
         QWidget::event(event);
}

void HeadGridCanvas::paintEvent(QPaintEvent*) {
  QPainter painter(this);
  painter.fillRect(rect(), Qt::white);
  if (image_.isNull()) return;
  painter.drawImage(0, 0, image_);
  if (selected_ && selected_->layer < static_cast<int>(grid_.value.size()) &&
      selected_->head < static_cast<int>(grid_.value[0].size())) {
    painter.setPen(QPen(QColor(220, 30, 60), 3));
    painter.drawRect(head_grid_cell_rect(grid_, options_, selected_->layer, selected_->head)
                         .adjusted(1, 1, -2, -2));
  }
}

void HeadGridCanvas::mousePressEvent(QMouseEvent* event) {
  if (grid_.value.empty() || event->button() != Qt::LeftButton) return;
  const QPoint point = event->position().toPoint();
  if (point.x() >= image_.width() || point.y() >= image_.height()) return;
  if (const std::optional<HeadCell> cell = head_grid_cell_at(grid_, options_, point)) {
    if (on_click_) on_click_(*cell);
  }
}

void HeadGridCanvas::resizeEvent(QResizeEvent*) {
  redraw();
}

}  // namespace headscope::gui
