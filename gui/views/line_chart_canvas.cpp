#include "gui/views/line_chart_canvas.h"

#include <algorithm>
#include <cmath>
#include <set>

#include <QtGui/QPainter>

#include "gui/views/hover_tooltip.h"

namespace headscope::gui {
namespace {

constexpr double kLeft = 64, kRight = 16, kTop = 28, kBottom = 40;
// Within this many pixels a point answers the hover.
constexpr double kHoverRadius = 8;
// Up to this many distinct x values are each given a tick.
constexpr size_t kDataTicks = 12;

QString number(double v) {
  return QString::number(v, 'g', 4);
}

}  // namespace

LineChartCanvas::LineChartCanvas(QWidget* parent) : QWidget(parent) {
  setMouseTracking(true);
  setMinimumSize(240, 160);
}

void LineChartCanvas::set_chart(LineChart chart) {
  chart_ = std::move(chart);
  update();
}

bool LineChartCanvas::shown(double x, double y) const {
  return std::isfinite(x) && std::isfinite(y) && (!chart_.log_x || x > 0);
}

LineChartCanvas::Ranges LineChartCanvas::ranges() const {
  Ranges r{INFINITY, -INFINITY, INFINITY, -INFINITY};
  for (const ChartSeries& s : chart_.series) {
    for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (!shown(s.x[i], s.y[i])) continue;
      const double x = chart_.log_x ? std::log2(s.x[i]) : s.x[i];
      r.x0 = std::min(r.x0, x), r.x1 = std::max(r.x1, x);
      r.y0 = std::min(r.y0, s.y[i]), r.y1 = std::max(r.y1, s.y[i]);
    }
  }
  for (const ChartReference& ref : chart_.references) {
    if (std::isfinite(ref.y)) r.y0 = std::min(r.y0, ref.y), r.y1 = std::max(r.y1, ref.y);
  }
  if (!(r.x0 <= r.x1)) r.x0 = 0, r.x1 = 1;
  if (!(r.y0 <= r.y1)) r.y0 = 0, r.y1 = 1;
  if (r.x0 == r.x1) r.x0 -= 0.5, r.x1 += 0.5;
  if (r.y0 == r.y1) r.y0 -= 0.5, r.y1 += 0.5;
  // A margin so that points on the edges keep their markers whole.
  const double dy = 0.05 * (r.y1 - r.y0);
  r.y0 -= dy, r.y1 += dy;
  return r;
}

QRectF LineChartCanvas::plot_area() const {
  return QRectF(kLeft, kTop, std::max(1.0, width() - kLeft - kRight),
                std::max(1.0, height() - kTop - kBottom));
}

QPointF LineChartCanvas::map(double x, double y, const Ranges& r) const {
  const QRectF area = plot_area();
  const double u = chart_.log_x ? std::log2(x) : x;
  return {area.left() + (u - r.x0) / (r.x1 - r.x0) * area.width(),
          area.bottom() - (y - r.y0) / (r.y1 - r.y0) * area.height()};
}

QPointF LineChartCanvas::position(size_t series, size_t point) const {
  const ChartSeries& s = chart_.series.at(series);
  return map(s.x.at(point), s.y.at(point), ranges());
}

QString LineChartCanvas::tooltip_at(QPoint point) const {
  const Ranges r = ranges();
  double best = kHoverRadius;
  QString text;
  for (const ChartSeries& s : chart_.series) {
    for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (!shown(s.x[i], s.y[i])) continue;
      const QPointF p = map(s.x[i], s.y[i], r);
      const double d = std::hypot(p.x() - point.x(), p.y() - point.y());
      if (d <= best) {
        best = d;
        text = QStringLiteral("%1: %2 %3, %4 %5")
                   .arg(s.name, chart_.x_label, QString::number(s.x[i], 'g', 6), chart_.y_label,
                        QString::number(s.y[i], 'g', 6));
      }
    }
  }
  return text;
}

bool LineChartCanvas::event(QEvent* event) {
  return answer_tooltip(*this, event, [this](QPoint point) { return tooltip_at(point); }) ||
         QWidget::event(event);
}

void LineChartCanvas::paintEvent(QPaintEvent*) {
  QPainter painter(this);
  painter.fillRect(rect(), Qt::white);
  painter.setRenderHint(QPainter::Antialiasing);
  const QRectF area = plot_area();
  const Ranges r = ranges();
  const QFontMetrics metrics(painter.font());
  painter.setPen(Qt::black);
  painter.drawText(QRectF(0, 2, width(), kTop - 6), Qt::AlignHCenter | Qt::AlignVCenter,
                   chart_.title);
  painter.drawRect(area);
  // x ticks: every distinct x value when few (block sizes, heads pruned), else five even ones.
  std::set<double> xs;
  for (const ChartSeries& s : chart_.series) {
    for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (shown(s.x[i], s.y[i])) xs.insert(s.x[i]);
    }
  }
  if (xs.size() > kDataTicks || xs.empty()) {
    xs.clear();
    for (int i = 0; i <= 4; ++i) {
      const double u = r.x0 + (r.x1 - r.x0) * i / 4;
      xs.insert(chart_.log_x ? std::exp2(u) : u);
    }
  }
  for (double x : xs) {
    const double px = map(x, r.y0, r).x();
    painter.drawLine(QPointF(px, area.bottom()), QPointF(px, area.bottom() + 4));
    painter.drawText(QRectF(px - 40, area.bottom() + 4, 80, metrics.height()), Qt::AlignHCenter,
                     number(x));
  }
  for (int i = 0; i <= 4; ++i) {
    const double y = r.y0 + (r.y1 - r.y0) * i / 4;
    const double py = map(chart_.log_x ? 1 : 0, y, r).y();
    painter.drawLine(QPointF(area.left() - 4, py), QPointF(area.left(), py));
    painter.drawText(QRectF(0, py - metrics.height() / 2.0, kLeft - 8, metrics.height()),
                     Qt::AlignRight | Qt::AlignVCenter, number(y));
  }
  painter.drawText(
      QRectF(area.left(), height() - metrics.height() - 2, area.width(), metrics.height()),
      Qt::AlignHCenter, chart_.x_label + (chart_.log_x ? tr(" (log scale)") : ""));
  painter.save();
  painter.translate(12, area.center().y());
  painter.rotate(-90);
  painter.drawText(
      QRectF(-area.height() / 2, -metrics.height() / 2.0, area.height(), metrics.height()),
      Qt::AlignHCenter, chart_.y_label);
  painter.restore();
  painter.setClipRect(area);
  for (const ChartReference& ref : chart_.references) {
    if (!std::isfinite(ref.y)) continue;
    const double py = map(chart_.log_x ? 1 : 0, ref.y, r).y();
    painter.setPen(QPen(Qt::gray, 1, Qt::DashLine));
    painter.drawLine(QPointF(area.left(), py), QPointF(area.right(), py));
    // Its name above the line, or below it where the line runs along the top.
    const double text_top = py - metrics.height() < area.top() ? py + 1 : py - metrics.height();
    painter.drawText(QRectF(area.left() + 4, text_top, area.width(), metrics.height()),
                     Qt::AlignLeft, ref.name);
  }
  for (const ChartSeries& s : chart_.series) {
    QPolygonF line;
    for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (shown(s.x[i], s.y[i])) line << map(s.x[i], s.y[i], r);
    }
    painter.setPen(QPen(s.colour, 2));
    painter.drawPolyline(line);
    painter.setBrush(s.colour);
    for (const QPointF& p : line) painter.drawEllipse(p, 3, 3);
  }
  painter.setClipping(false);
  // Legend, top right inside the plot.
  double y = area.top() + 4;
  for (const ChartSeries& s : chart_.series) {
    const double w = metrics.horizontalAdvance(s.name) + 24;
    const double x = area.right() - w - 4;
    painter.setPen(QPen(s.colour, 2));
    painter.drawLine(QPointF(x, y + metrics.height() / 2.0),
                     QPointF(x + 16, y + metrics.height() / 2.0));
    painter.setPen(Qt::black);
    painter.drawText(QRectF(x + 20, y, w, metrics.height()), Qt::AlignLeft, s.name);
    y += metrics.height() + 2;
  }
}

}  // namespace headscope::gui
