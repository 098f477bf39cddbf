#include "gui/views/attention_canvas.h"

#include <algorithm>
#include <cmath>

#include <QtGui/QMouseEvent>
#include <QtGui/QPainter>
#include <QtGui/QWheelEvent>

#include "gui/render/colour_map.h"
#include "gui/views/hover_tooltip.h"

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

QColor AttentionCanvas::colour(float value, float high) const {
  if (!std::isfinite(value)) return QColor(200, 200, 200);
  return scale_ == Scale::kDiverging ? diverging_colour(value / high)
                                     : heat_colour(scaled(value / high));
}

void AttentionCanvas::set_map(std::shared_ptr<const AttentionMap> map, Scale scale) {
  map_ = std::move(map);
  scale_ = scale;
  image_ = QImage();
  detail_ = nullptr;
  detail_image_ = QImage();
  marked_.reset();
  if (map_ && map_->rows > 0 && map_->cols > 0) {
    // Colours span 0 .. the largest value (probabilities and block masses are never
    // negative), or -max|v| .. max|v| for a difference.
    high_ = 0;
    for (float v : map_->values) {
      if (std::isfinite(v)) high_ = std::max(high_, scale_ == Scale::kDiverging ? std::abs(v) : v);
    }
    if (!(high_ > 0)) high_ = 1;
    image_ =
        QImage(static_cast<int>(map_->cols), static_cast<int>(map_->rows), QImage::Format_RGB32);
    for (int64_t r = 0; r < map_->rows; ++r) {
      auto* line = reinterpret_cast<QRgb*>(image_.scanLine(static_cast<int>(r)));
      for (int64_t c = 0; c < map_->cols; ++c) {
        line[c] = colour(map_->at(r, c), high_).rgb();
      }
    }
    visible_ = QRectF(0, 0, static_cast<double>(map_->cols), static_cast<double>(map_->rows));
  }
  view_changed();
}

void AttentionCanvas::set_detail(std::shared_ptr<const AttentionDetail> detail) {
  detail_ = std::move(detail);
  detail_image_ = QImage();
  if (detail_ && detail_->box.queries() > 0 && detail_->box.keys() > 0) {
    const PositionBox& box = detail_->box;
    const bool exact = detail_->kind == AttentionDetail::Kind::kExact;
    const std::vector<float>& values = exact ? detail_->values : detail_->topk_prob;
    detail_high_ = 0;
    for (float v : values) {
      if (std::isfinite(v)) detail_high_ = std::max(detail_high_, v);
    }
    if (!(detail_high_ > 0)) detail_high_ = 1;
    detail_image_ = QImage(static_cast<int>(box.keys()), static_cast<int>(box.queries()),
                           QImage::Format_ARGB32);
    detail_image_.fill(Qt::transparent);
    for (int64_t q = 0; q < box.queries(); ++q) {
      auto* line = reinterpret_cast<QRgb*>(detail_image_.scanLine(static_cast<int>(q)));
      if (exact) {
        for (int64_t k = 0; k < box.keys(); ++k) {
          line[k] =
              colour(detail_->values[static_cast<size_t>(q * box.keys() + k)], detail_high_).rgb();
        }
        continue;
      }
      for (int64_t j = 0; j < detail_->k; ++j) {
        const auto i = static_cast<size_t>(q * detail_->k + j);
        const int64_t key = detail_->topk_index[i] - box.key_begin;
        const float v = detail_->topk_prob[i];
        if (key >= 0 && key < box.keys() && std::isfinite(v)) {
          line[key] = colour(v, detail_high_).rgb();
        }
      }
    }
  }
  update();
}

PositionBox AttentionCanvas::visible_positions() const {
  if (!map_ || image_.isNull()) return {};
  const auto bs = static_cast<double>(map_->block_size);
  const auto at = [&](double cell) {
    return std::clamp<int64_t>(static_cast<int64_t>(std::floor(cell * bs)), 0, map_->positions);
  };
  return {at(visible_.top()), at(std::ceil(visible_.bottom())), at(visible_.left()),
          at(std::ceil(visible_.right()))};
}

double AttentionCanvas::smallest_side() const {
  // Zoomed in, 4 x 4 positions fill the view: a block map's cells split into their positions.
  return 4.0 / static_cast<double>(map_->block_size);
}

QRectF AttentionCanvas::cells_of(const PositionBox& box) const {
  const auto bs = static_cast<double>(map_->block_size);
  return QRectF(box.key_begin / bs, box.query_begin / bs, box.keys() / bs, box.queries() / bs);
}

void AttentionCanvas::show_positions(const PositionBox& box) {
  if (!map_ || image_.isNull()) return;
  const QRectF want = cells_of(box);
  const double max_w = static_cast<double>(map_->cols), max_h = static_cast<double>(map_->rows);
  const double w = std::clamp(want.width(), std::min(smallest_side(), max_w), max_w);
  const double h = std::clamp(want.height(), std::min(smallest_side(), max_h), max_h);
  const double x = std::clamp(want.center().x() - w / 2, 0.0, max_w - w);
  const double y = std::clamp(want.center().y() - h / 2, 0.0, max_h - h);
  visible_ = QRectF(x, y, w, h);
  view_changed();
}

void AttentionCanvas::set_visible(const QRectF& cells) {
  if (!map_ || image_.isNull()) return;
  const QRectF whole(0, 0, static_cast<double>(map_->cols), static_cast<double>(map_->rows));
  const QRectF shown = cells.intersected(whole);
  if (shown.isEmpty() || shown == visible_) return;
  visible_ = shown;
  view_changed();
}

void AttentionCanvas::set_marked(std::optional<std::pair<int64_t, int64_t>> query_key) {
  marked_ = query_key;
  update();
}

std::optional<std::pair<int64_t, int64_t>> AttentionCanvas::position_at(QPoint point) const {
  if (!map_ || image_.isNull() || !plot_area().contains(point)) return std::nullopt;
  const QPointF cell = to_cell(point);
  const auto bs = static_cast<double>(map_->block_size);
  const auto query = static_cast<int64_t>(std::floor(cell.y() * bs));
  const auto key = static_cast<int64_t>(std::floor(cell.x() * bs));
  if (query < 0 || key < 0 || query >= map_->positions || key >= map_->positions) {
    return std::nullopt;
  }
  return std::make_pair(query, key);
}

void AttentionCanvas::view_changed() {
  update();
  if (on_view_changed_) on_view_changed_();
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
  const double w = std::clamp(visible_.width() / factor, std::min(smallest_side(), max_w), max_w);
  const double h = std::clamp(visible_.height() / factor, std::min(smallest_side(), max_h), max_h);
  const double fx = (at.x() - visible_.x()) / visible_.width();
  const double fy = (at.y() - visible_.y()) / visible_.height();
  const double x = std::clamp(at.x() - fx * w, 0.0, max_w - w);
  const double y = std::clamp(at.y() - fy * h, 0.0, max_h - h);
  visible_ = QRectF(x, y, w, h);
  view_changed();
}

QString AttentionCanvas::position_label(int64_t position) const {
  const auto i = static_cast<size_t>(position);
  return i < map_->token_text.size()
             ? QStringLiteral("%1 '%2'").arg(position).arg(shortened(map_->token_text[i]))
             : QString::number(position);
}

QString AttentionCanvas::label(int64_t cell) const {
  if (map_->kind == AttentionMap::Kind::kBlocks) {
    const int64_t first = cell * map_->block_size;
    const int64_t last = std::min(first + map_->block_size, map_->positions) - 1;
    return QStringLiteral("%1-%2").arg(first).arg(last);
  }
  return position_label(cell);
}

QString AttentionCanvas::tooltip_at(QPoint point) const {
  if (!map_ || image_.isNull() || !plot_area().contains(point)) return {};
  if (detail_ && map_->kind == AttentionMap::Kind::kBlocks) {
    const auto at = position_at(point);
    const PositionBox& box = detail_->box;
    if (at && at->first >= box.query_begin && at->first < box.query_end &&
        at->second >= box.key_begin && at->second < box.key_end) {
      const float v = detail_->value(at->first, at->second);
      return tr("query %1 -> key %2: %3")
          .arg(position_label(at->first), position_label(at->second),
               std::isfinite(v) ? QString::number(v, 'g', 4) + tr(" prob")
                                : tr("not in the query's top %1").arg(detail_->k));
    }
  }
  const QPointF cell = to_cell(point);
  const auto row = static_cast<int64_t>(cell.y()), col = static_cast<int64_t>(cell.x());
  if (row < 0 || col < 0 || row >= map_->rows || col >= map_->cols) return {};
  const bool blocks = map_->kind == AttentionMap::Kind::kBlocks;
  const QString unit = scale_ == Scale::kDiverging ? tr("(A - B)")
                       : blocks                    ? tr("mass")
                                                   : tr("prob");
  return tr("%1 %2 -> %3 %4: %5 %6")
      .arg(blocks ? tr("queries") : tr("query"), label(row), blocks ? tr("keys") : tr("key"),
           label(col), QString::number(map_->at(row, col), 'g', 4), unit);
}

bool AttentionCanvas::event(QEvent* event) {
  return answer_tooltip(*this, event, [this](QPoint point) { return tooltip_at(point); }) ||
         QWidget::event(event);
}

void AttentionCanvas::paintEvent(QPaintEvent*) {
  QPainter painter(this);
  painter.fillRect(rect(), Qt::white);
  if (image_.isNull()) return;
  const QRectF area = plot_area();
  painter.drawImage(area, image_, visible_);
  const auto to_widget = [&](QRectF cells) {
    return QRectF(area.x() + (cells.x() - visible_.x()) / visible_.width() * area.width(),
                  area.y() + (cells.y() - visible_.y()) / visible_.height() * area.height(),
                  cells.width() / visible_.width() * area.width(),
                  cells.height() / visible_.height() * area.height());
  };
  if (!detail_image_.isNull()) {
    // Only the visible part of the box: a box far larger than the view is never scaled whole.
    const QRectF box = cells_of(detail_->box);
    const QRectF shown = box.intersected(visible_);
    if (!shown.isEmpty()) {
      const auto bs = static_cast<double>(map_->block_size);
      const QRectF source((shown.x() - box.x()) * bs, (shown.y() - box.y()) * bs,
                          shown.width() * bs, shown.height() * bs);
      // Top-k lists leave most keys unknown: the block mass shows through, faded.
      if (detail_->kind == AttentionDetail::Kind::kTopK) {
        painter.fillRect(to_widget(shown), QColor(255, 255, 255, 170));
      }
      painter.drawImage(to_widget(shown), detail_image_, source);
    }
  }
  if (marked_) {
    const auto bs = static_cast<double>(map_->block_size);
    painter.save();
    painter.setClipRect(area);
    painter.setPen(QPen(QColor(0, 170, 255), 1));
    const QRectF row = to_widget(QRectF(visible_.x(), marked_->first / bs, visible_.width(), 0));
    const QRectF col = to_widget(QRectF(marked_->second / bs, visible_.y(), 0, visible_.height()));
    painter.drawLine(row.topLeft(), row.topRight());
    painter.drawLine(col.topLeft(), col.bottomLeft());
    painter.restore();
  }
  painter.setPen(Qt::black);
  painter.drawRect(area);
  QFont font = painter.font();
  font.setPixelSize(10);
  painter.setFont(font);

  // Axis labels: every cell's when they fit, else the first and last visible cells'; zoomed
  // into a block map far enough, every position's.
  const double cell_px = area.height() / visible_.height();
  const bool by_position = map_->kind == AttentionMap::Kind::kBlocks &&
                           cell_px / static_cast<double>(map_->block_size) >= kLabelledCell;
  const double per_cell = by_position ? static_cast<double>(map_->block_size) : 1.0;
  const auto unit_label = [&](int64_t unit) {
    return by_position ? position_label(unit) : label(unit);
  };
  const auto unit_centre = [&](int64_t unit) {
    const double cell = (static_cast<double>(unit) + 0.5) / per_cell;
    return QPointF(area.x() + (cell - visible_.x()) / visible_.width() * area.width(),
                   area.y() + (cell - visible_.y()) / visible_.height() * area.height());
  };
  const int64_t units = by_position ? map_->positions : map_->rows;
  const auto first = static_cast<int64_t>(std::floor(visible_.y() * per_cell));
  const auto last =
      std::min(units, static_cast<int64_t>(std::ceil(visible_.bottom() * per_cell))) - 1;
  const auto first_key = static_cast<int64_t>(std::floor(visible_.x() * per_cell));
  const auto last_key =
      std::min(units, static_cast<int64_t>(std::ceil(visible_.right() * per_cell))) - 1;
  const bool every = cell_px / per_cell >= kLabelledCell;
  const int64_t step = every ? 1 : std::max<int64_t>(1, last - first);
  for (int64_t r = first; r <= last; r += step) {
    const double y = unit_centre(r).y();
    painter.drawText(QRectF(0, y - 6, kLeft - 4, 12), Qt::AlignRight | Qt::AlignVCenter,
                     unit_label(r));
  }
  const int64_t key_step = every ? 1 : std::max<int64_t>(1, last_key - first_key);
  for (int64_t c = first_key; c <= last_key; c += key_step) {
    const double x = unit_centre(c).x();
    painter.save();
    painter.translate(x, area.bottom() + 4);
    painter.rotate(90);
    painter.drawText(QRectF(0, -6, kBottom - 20, 12), Qt::AlignLeft | Qt::AlignVCenter,
                     unit_label(c));
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

  draw_colour_bar(painter, area);
}

void AttentionCanvas::draw_colour_bar(QPainter& painter, const QRectF& area) const {
  const QRectF bar(area.right() + 12, area.y(), 14, area.height());
  const auto text_at = [&](double y, const QString& text) {
    painter.drawText(QRectF(bar.right() + 2, y, kRight, 14), Qt::AlignLeft, text);
  };
  if (scale_ == Scale::kDiverging) {
    // +max|v| at the top, 0 in the middle, -max|v| at the bottom; linear.
    for (int y = 0; y < static_cast<int>(bar.height()); ++y) {
      painter.setPen(diverging_colour(1.0 - 2.0 * y / std::max(1.0, bar.height() - 1)));
      painter.drawLine(QPointF(bar.x(), bar.y() + y), QPointF(bar.right(), bar.y() + y));
    }
    painter.setPen(Qt::black);
    text_at(bar.y() - 2, QString::number(high_, 'g', 3));
    text_at(bar.center().y() - 7, QStringLiteral("0"));
    text_at(bar.bottom() - 12, QString::number(-high_, 'g', 3));
    painter.drawText(QRectF(bar.x() - 4, bar.bottom() + 4, kRight, 14), Qt::AlignLeft, tr("A - B"));
    return;
  }
  // Colour bar, 0 at the bottom; row y shows the value whose scaled fraction is its height. It
  // scales the detail's probabilities where one is drawn, else the map's values.
  const float high = detail_image_.isNull() ? high_ : detail_high_;
  for (int y = 0; y < static_cast<int>(bar.height()); ++y) {
    painter.setPen(heat_colour(1.0 - y / std::max(1.0, bar.height() - 1)));
    painter.drawLine(QPointF(bar.x(), bar.y() + y), QPointF(bar.right(), bar.y() + y));
  }
  painter.setPen(Qt::black);
  text_at(bar.y() - 2, QString::number(high, 'g', 3));
  text_at(bar.bottom() - 12, QStringLiteral("0"));
  // The square-root scale puts a quarter of the top value half-way up.
  text_at(bar.center().y() - 7, QString::number(high / 4, 'g', 3));
  painter.drawText(QRectF(bar.x() - 4, bar.bottom() + 4, kRight, 14), Qt::AlignLeft,
                   tr("sqrt scale"));
  if (!detail_image_.isNull()) {
    painter.drawText(
        QRectF(bar.x() - 4, bar.bottom() + 18, kRight, 14), Qt::AlignLeft,
        detail_->kind == AttentionDetail::Kind::kExact ? tr("exact prob") : tr("top-k prob"));
  }
}

void AttentionCanvas::wheelEvent(QWheelEvent* event) {
  zoom(std::pow(1.25, event->angleDelta().y() / 120.0), event->position());
}

void AttentionCanvas::mousePressEvent(QMouseEvent* event) {
  drag_from_ = event->position();
  dragged_ = false;
}

void AttentionCanvas::mouseReleaseEvent(QMouseEvent* event) {
  if (dragged_ || event->button() != Qt::LeftButton || !on_pick_) return;
  if (const auto at = position_at(event->position().toPoint())) on_pick_(at->first, at->second);
}

void AttentionCanvas::mouseMoveEvent(QMouseEvent* event) {
  if (!(event->buttons() & Qt::LeftButton) || !map_ || image_.isNull()) return;
  const QPointF delta = to_cell(drag_from_) - to_cell(event->position());
  drag_from_ = event->position();
  dragged_ = true;
  const double x = std::clamp(visible_.x() + delta.x(), 0.0, map_->cols - visible_.width());
  const double y = std::clamp(visible_.y() + delta.y(), 0.0, map_->rows - visible_.height());
  visible_.moveTo(x, y);
  view_changed();
}

void AttentionCanvas::mouseDoubleClickEvent(QMouseEvent*) {
  if (!map_ || image_.isNull()) return;
  visible_ = QRectF(0, 0, static_cast<double>(map_->cols), static_cast<double>(map_->rows));
  view_changed();
}

}  // namespace headscope::gui
