#include "gui/views/attention_canvas.h"

#include <algorithm>
#include <cmath>

#include <QtGui/QHelpEvent>
#include <QtGui/QMouseEvent>
#include <QtGui/QPainter>
#include <QtGui/QWheelEvent>
#include <QtWidgets/QToolTip>

#include "gui/render/colour_map.h"

namespace headscope::gui {
namespace {

// Room for query labels left, key labels below, the colour bar right.
constexpr int kLeft = 110, kTop = 12, kBottom = 110, kRight = 70;
// Token labels are drawn when a cell is at least this many pixels tall (wide).
constexpr double kLabelledCell = 11;

QString shortened(const std::string& text) {
  QString s = QString::fromStdString(text).replace('\n', "\\n");
  return s.size() > 14 ? s.left(13) + QChar(0x2026) : s;
}

// Colours follow the square root of the value: most of a row's mass sits on a few keys, and a
// linear scale shows the many small weights of a broad head as one dark colour.
double scaled(double fraction) {
  return std::sqrt(std::max(0.0, fraction));
}

}  // namespace

AttentionCanvas::AttentionCanvas(QWidget* parent) : QWidget(parent) {
  setMouseTracking(true);
  setMinimumSize(300, 300);
}

void AttentionCanvas::set_map(std::shared_ptr<const AttentionMap> map) {
  map_ = std::move(map);
  image_ = QImage();
  if (map_ && map_->rows > 0 && map_->cols > 0) {
    // Colours span 0 .. the largest value: probabilities and block masses are never negative.
    high_ = 0;
    for (float v : map_->values) {
      if (std::isfinite(v)) high_ = std::max(high_, v);
    }
    if (!(high_ > 0)) high_ = 1;
    image_ =
        QImage(static_cast<int>(map_->cols), static_cast<int>(map_->rows), QImage::Format_RGB32);
    for (int64_t r = 0; r < map_->rows; ++r) {
      auto* line = reinterpret_cast<QRgb*>(image_.scanLine(static_cast<int>(r)));
      for (int64_t c = 0; c < map_->cols; ++c) {
        const float v = map_->at(r, c);
        line[c] = std::isfinite(v) ? heat_colour(scaled(v / high_)).rgb() : qRgb(200, 200, 200);
      }
    }
    visible_ = QRectF(0, 0, static_cast<double>(map_->cols), static_cast<double>(map_->rows));
  }
  update();
}

QRectF AttentionCanvas::plot_area() const {
  const double side = std::max(10, std::min(width() - kLeft - kRight, height() - kTop - kBottom));
  return QRectF(kLeft, kTop, side, side);
}

QPointF AttentionCanvas::to_cell(QPointF point) const {
  const QRectF area = plot_area();
  return QPointF(visible_.x() + (point.x() - area.x()) / area.width() * visible_.width(),
                 visible_.y() + (point.y() - area.y()) / area.height() * visible_.height());
}

QPointF AttentionCanvas::cell_centre(int64_t row, int64_t col) const {
  const QRectF area = plot_area();
  return QPointF(area.x() + (col + 0.5 - visible_.x()) / visible_.width() * area.width(),
                 area.y() + (row + 0.5 - visible_.y()) / visible_.height() * area.height());
}

void AttentionCanvas::zoom(double factor, QPointF anchor) {
  if (!map_ || image_.isNull()) return;
  const QPointF at = to_cell(anchor);
  const double max_w = static_cast<double>(map_->cols), max_h = static_cast<double>(map_->rows);
  // At most 4 x 4 cells in view when zoomed in, the whole map when zoomed out.
  const double w = std::clamp(visible_.width() / factor, std::min(4.0, max_w), max_w);
  const double h = std::clamp(visible_.height() / factor, std::min(4.0, max_h), max_h);
  const double fx = (at.x() - visible_.x()) / visible_.width();
  const double fy = (at.y() - visible_.y()) / visible_.height();
  const double x = std::clamp(at.x() - fx * w, 0.0, max_w - w);
  const double y = std::clamp(at.y() - fy * h, 0.0, max_h - h);
  visible_ = QRectF(x, y, w, h);
  update();
}

QString AttentionCanvas::label(int64_t cell) const {
  if (map_->kind == AttentionMap::Kind::kBlocks) {
    const int64_t first = cell * map_->block_size;
    const int64_t last = std::min(first + map_->block_size, map_->positions) - 1;
    return QStringLiteral("%1-%2").arg(first).arg(last);
  }
  const auto i = static_cast<size_t>(cell);
  return i < map_->token_text.size()
             ? QStringLiteral("%1 '%2'").arg(cell).arg(shortened(map_->token_text[i]))
             : QString::number(cell);
}

QString AttentionCanvas::tooltip_at(QPoint point) const {
  if (!map_ || image_.isNull() || !plot_area().contains(point)) return {};
  const QPointF cell = to_cell(point);
  const auto row = static_cast<int64_t>(cell.y()), col = static_cast<int64_t>(cell.x());
  if (row < 0 || col < 0 || row >= map_->rows || col >= map_->cols) return {};
  const bool blocks = map_->kind == AttentionMap::Kind::kBlocks;
  return tr("%1 %2 -> %3 %4: %5 %6")
      .arg(blocks ? tr("queries") : tr("query"), label(row), blocks ? tr("keys") : tr("key"),
           label(col), QString::number(map_->at(row, col), 'g', 4),
           blocks ? tr("mass") : tr("prob"));
}

bool AttentionCanvas::event(QEvent* event) {
  if (event->type() == QEvent::ToolTip) {
    auto* help = static_cast<QHelpEvent*>(event);
    const QString text = tooltip_at(help->pos());
    if (text.isEmpty()) {
      QToolTip::hideText();
    } else {
      QToolTip::showText(help->globalPos(), text, this);
    }
    return true;
  }
  return QWidget::event(event);
}

void AttentionCanvas::paintEvent(QPaintEvent*) {
  QPainter painter(this);
  painter.fillRect(rect(), Qt::white);
  if (image_.isNull()) return;
  const QRectF area = plot_area();
  painter.drawImage(area, image_, visible_);
  painter.setPen(Qt::black);
  painter.drawRect(area);
  QFont font = painter.font();
  font.setPixelSize(10);
  painter.setFont(font);

  // Axis labels: every cell's when they fit, else the first and last visible cells'.
  const double cell_px = area.height() / visible_.height();
  const auto first = static_cast<int64_t>(std::floor(visible_.y()));
  const auto last = static_cast<int64_t>(std::ceil(visible_.bottom())) - 1;
  const auto first_key = static_cast<int64_t>(std::floor(visible_.x()));
  const auto last_key = static_cast<int64_t>(std::ceil(visible_.right())) - 1;
  const int64_t step = cell_px >= kLabelledCell ? 1 : std::max<int64_t>(1, last - first);
  for (int64_t r = first; r <= last; r += step) {
    const double y = cell_centre(r, 0).y();
    painter.drawText(QRectF(0, y - 6, kLeft - 4, 12), Qt::AlignRight | Qt::AlignVCenter, label(r));
  }
  for (int64_t c = first_key; c <= last_key; c += step) {
    const double x = cell_centre(0, c).x();
    painter.save();
    painter.translate(x, area.bottom() + 4);
    painter.rotate(90);
    painter.drawText(QRectF(0, -6, kBottom - 20, 12), Qt::AlignLeft | Qt::AlignVCenter, label(c));
    painter.restore();
  }
  font.setPixelSize(12);
  painter.setFont(font);
  painter.drawText(QRectF(area.x(), height() - 16, area.width(), 14), Qt::AlignCenter, tr("key"));
  painter.save();
  painter.translate(10, area.center().y());
  painter.rotate(-90);
  painter.drawText(QRectF(-40, -6, 80, 14), Qt::AlignCenter, tr("query"));
  painter.restore();

  // Colour bar, 0 at the bottom; row y shows the value whose scaled fraction is its height.
  const QRectF bar(area.right() + 12, area.y(), 14, area.height());
  for (int y = 0; y < static_cast<int>(bar.height()); ++y) {
    painter.setPen(heat_colour(1.0 - y / std::max(1.0, bar.height() - 1)));
    painter.drawLine(QPointF(bar.x(), bar.y() + y), QPointF(bar.right(), bar.y() + y));
  }
  painter.setPen(Qt::black);
  painter.drawText(QRectF(bar.right() + 2, bar.y() - 2, kRight, 14), Qt::AlignLeft,
                   QString::number(high_, 'g', 3));
  painter.drawText(QRectF(bar.right() + 2, bar.bottom() - 12, kRight, 14), Qt::AlignLeft,
                   QStringLiteral("0"));
  // The square-root scale puts a quarter of the top value half-way up.
  painter.drawText(QRectF(bar.right() + 2, bar.center().y() - 7, kRight, 14), Qt::AlignLeft,
                   QString::number(high_ / 4, 'g', 3));
  painter.drawText(QRectF(bar.x() - 4, bar.bottom() + 4, kRight, 14), Qt::AlignLeft,
                   tr("sqrt scale"));
}

void AttentionCanvas::wheelEvent(QWheelEvent* event) {
  zoom(std::pow(1.25, event->angleDelta().y() / 120.0), event->position());
}

void AttentionCanvas::mousePressEvent(QMouseEvent* event) {
  drag_from_ = event->position();
}

void AttentionCanvas::mouseMoveEvent(QMouseEvent* event) {
  if (!(event->buttons() & Qt::LeftButton) || !map_ || image_.isNull()) return;
  const QPointF delta = to_cell(drag_from_) - to_cell(event->position());
  drag_from_ = event->position();
  const double x = std::clamp(visible_.x() + delta.x(), 0.0, map_->cols - visible_.width());
  const double y = std::clamp(visible_.y() + delta.y(), 0.0, map_->rows - visible_.height());
  visible_.moveTo(x, y);
  update();
}

void AttentionCanvas::mouseDoubleClickEvent(QMouseEvent*) {
  if (!map_ || image_.isNull()) return;
  visible_ = QRectF(0, 0, static_cast<double>(map_->cols), static_cast<double>(map_->rows));
  update();
}

}  // namespace headscope::gui
