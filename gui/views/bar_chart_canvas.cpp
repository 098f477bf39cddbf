#include "gui/views/bar_chart_canvas.h"

#include <algorithm>
#include <cmath>

#include <QtGui/QMouseEvent>
#include <QtGui/QPainter>

#include "gui/views/hover_tooltip.h"

namespace headscope::gui {
namespace {

// Room for the value axis's numbers on the left and its label above.
constexpr double kLeft = 64, kRight = 12, kTop = 24, kBottom = 16;
const QColor kBarColour(40, 110, 170);
const QColor kMarkedColour(230, 120, 30);
const QColor kSelectedColour(220, 30, 60);

}  // namespace

BarChartCanvas::BarChartCanvas(QWidget* parent) : QWidget(parent) {
  setMouseTracking(true);
  setMinimumSize(200, 120);
}

void BarChartCanvas::set_bars(std::vector<Bar> bars, QString value_label) {
  bars_ = std::move(bars);
  value_label_ = std::move(value_label);
  if (selected_ && *selected_ >= static_cast<int>(bars_.size())) selected_.reset();
  update();
}

void BarChartCanvas::set_selected(std::optional<int> index) {
  selected_ = index;
  update();
}

QRectF BarChartCanvas::plot_area() const {
  return QRectF(kLeft, kTop, std::max(1.0, width() - kLeft - kRight),
                std::max(1.0, height() - kTop - kBottom));
}

std::pair<double, double> BarChartCanvas::range() const {
  double low = 0, high = 0;
  for (const Bar& bar : bars_) {
    if (!std::isfinite(bar.value)) continue;
    low = std::min(low, bar.value);
    high = std::max(high, bar.value);
  }
  if (low == high) high = low + 1;  // all zero (or none): an axis of unit height
  return {low, high};
}

double BarChartCanvas::y_of(double value) const {
  const QRectF area = plot_area();
  const auto [low, high] = range();
  return area.bottom() - (value - low) / (high - low) * area.height();
}

std::optional<int> BarChartCanvas::bar_at(QPoint point) const {
  const QRectF area = plot_area();
  if (bars_.empty() || point.x() < area.left() || point.x() >= area.right() ||
      point.y() < area.top() || point.y() > area.bottom()) {
    return std::nullopt;
  }
  const double width = area.width() / static_cast<double>(bars_.size());
  return std::min(static_cast<int>(bars_.size()) - 1,
                  static_cast<int>((point.x() - area.left()) / width));
}

QPoint BarChartCanvas::bar_centre(int index) const {
  if (bars_.empty()) return {};
  const QRectF area = plot_area();
  const double width = area.width() / static_cast<double>(bars_.size());
  return QPointF(area.left() + (index + 0.5) * width, area.center().y()).toPoint();
}

QString BarChartCanvas::tooltip_at(QPoint point) const {
  const std::optional<int> index = bar_at(point);
  if (!index) return {};
  const Bar& bar = bars_[static_cast<size_t>(*index)];
  return tr("%1: %2 (rank %3)")
      .arg(bar.label, std::isnan(bar.value) ? tr("no value") : QString::number(bar.value, 'g', 6))
      .arg(*index + 1);
}

bool BarChartCanvas::event(QEvent* event) {
  return answer_tooltip(*this, event, [this](QPoint point) { return tooltip_at(point); }) ||
         QWidget::event(event);
}

void BarChartCanvas::paintEvent(QPaintEvent*) {
  QPainter painter(this);
  painter.fillRect(rect(), Qt::white);
  if (bars_.empty()) return;
  const QRectF area = plot_area();
  const auto [low, high] = range();
  const double zero = y_of(0);
  const double width = area.width() / static_cast<double>(bars_.size());
  // A gap between bars while they are wide enough to show one.
  const double gap = width >= 4 ? std::min(2.0, width * 0.15) : 0;
  painter.setPen(Qt::NoPen);
  for (size_t i = 0; i < bars_.size(); ++i) {
    const Bar& bar = bars_[i];
    if (!std::isfinite(bar.value)) continue;
    const double x = area.left() + static_cast<double>(i) * width;
    const double y = y_of(bar.value);
    painter.setBrush(bar.marked ? kMarkedColour : kBarColour);
    painter.drawRect(QRectF(x + gap / 2, std::min(y, zero), std::max(1.0, width - gap),
                            std::max(1.0, std::fabs(zero - y))));
  }
  if (selected_) {
    const double x = area.left() + static_cast<double>(*selected_) * width;
    const double value = bars_[static_cast<size_t>(*selected_)].value;
    const double y = std::isfinite(value) ? y_of(value) : zero;
    painter.setBrush(Qt::NoBrush);
    painter.setPen(QPen(kSelectedColour, 2));
    painter.drawRect(
        QRectF(x, std::min(y, zero) - 1, std::max(2.0, width), std::fabs(zero - y) + 2));
  }
  painter.setPen(QPen(Qt::black, 1));
  painter.drawLine(QPointF(area.left(), area.top()), QPointF(area.left(), area.bottom()));
  painter.drawLine(QPointF(area.left(), zero), QPointF(area.right(), zero));
  const QFontMetrics metrics(painter.font());
  for (double v : {low, 0.0, high}) {
    const QString text = QString::number(v, 'g', 4);
    const double y = y_of(v);
    painter.drawLine(QPointF(area.left() - 4, y), QPointF(area.left(), y));
    painter.drawText(QRectF(0, y - metrics.height() / 2.0, kLeft - 8, metrics.height()),
                     Qt::AlignRight | Qt::AlignVCenter, text);
  }
  painter.drawText(QRectF(4, 2, QWidget::width() - 8, kTop - 4), Qt::AlignLeft | Qt::AlignVCenter,
                   value_label_);
}

void BarChartCanvas::mousePressEvent(QMouseEvent* event) {
  if (event->button() != Qt::LeftButton) return;
  if (const std::optional<int> index = bar_at(event->position().toPoint())) {
    if (on_click_) on_click_(*index);
  }
}

}  // namespace headscope::gui
