#include "gui/render/line_chart_image.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <string>

#include <QtGui/QFontMetrics>
#include <QtGui/QPainter>

#include "core/base/error.h"

namespace headscope {
namespace {

constexpr double kLeft = 64, kRight = 16, kTop = 28, kBottom = 40;
// Up to this many distinct x values are each given a tick.
constexpr size_t kDataTicks = 12;
// The smallest panel with room for the margins above and a plot between them.
constexpr int kMinPanelWidth = 160, kMinPanelHeight = 120;
// The line above small multiples that carries their title.
constexpr int kPanelsTitle = 30;

QString number(double v) {
  return QString::number(v, 'g', 4);
}

// Points sampled along each series' drawn line, for placing the legend.
constexpr int kSegmentSamples = 8;

// The legend's box, inside the plot in the corner covering the fewest points of the lines
// (top right first on a tie).
QRectF legend_rect(const LineChart& chart, const LineChartFrame& frame,
                   const QFontMetrics& metrics) {
  double width = 0, height = 0;
  for (const ChartSeries& s : chart.series) {
    if (s.name.isEmpty()) continue;
    width = std::max(width, metrics.horizontalAdvance(s.name) + 24.0);
    height += metrics.height() + 2;
  }
  std::vector<QPointF> points;
  for (const ChartSeries& s : chart.series) {
    QPointF last;
    bool have_last = false;
    for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (!frame.shown(s.x[i], s.y[i])) continue;
      const QPointF p = frame.map(s.x[i], s.y[i]);
      for (int k = 1; have_last && k <= kSegmentSamples; ++k) {
        points.push_back(last + (p - last) * (static_cast<double>(k) / kSegmentSamples));
      }
      points.push_back(p);
      last = p, have_last = true;
    }
  }
  const QRectF area = frame.area().adjusted(4, 4, -4, -4);
  const QSizeF size(width, height);
  const QRectF corners[] = {
      QRectF(QPointF(area.right() - width, area.top()), size),
      QRectF(area.topLeft(), size),
      QRectF(QPointF(area.right() - width, area.bottom() - height), size),
      QRectF(QPointF(area.left(), area.bottom() - height), size),
  };
  const QRectF* best = &corners[0];
  size_t fewest = points.size() + 1;
  for (const QRectF& corner : corners) {
    const auto covered = static_cast<size_t>(std::count_if(
        points.begin(), points.end(), [&corner](const QPointF& p) { return corner.contains(p); }));
    if (covered < fewest) fewest = covered, best = &corner;
  }
  return *best;
}

}  // namespace

LineChartFrame::LineChartFrame(const LineChart& chart, const QRectF& bounds)
    : log_x_(chart.log_x),
      area_(bounds.left() + kLeft, bounds.top() + kTop,
            std::max(1.0, bounds.width() - kLeft - kRight),
            std::max(1.0, bounds.height() - kTop - kBottom)) {
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  for (const ChartSeries& s : chart.series) {
    for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (!shown(s.x[i], s.y[i])) continue;
      const double x = log_x_ ? std::log2(s.x[i]) : s.x[i];
      x0 = std::min(x0, x), x1 = std::max(x1, x);
      y0 = std::min(y0, s.y[i]), y1 = std::max(y1, s.y[i]);
    }
  }
  for (const ChartReference& ref : chart.references) {
    if (std::isfinite(ref.y)) y0 = std::min(y0, ref.y), y1 = std::max(y1, ref.y);
  }
  for (const double y : chart.y_span) {
    if (std::isfinite(y)) y0 = std::min(y0, y), y1 = std::max(y1, y);
  }
  if (!(x0 <= x1)) x0 = 0, x1 = 1;
  if (!(y0 <= y1)) y0 = 0, y1 = 1;
  if (x0 == x1) x0 -= 0.5, x1 += 0.5;
  if (y0 == y1) y0 -= 0.5, y1 += 0.5;
  // A margin on every side so that markers on the edges stay whole inside the clipped area.
  const double dx = 0.05 * (x1 - x0), dy = 0.05 * (y1 - y0);
  x0_ = x0 - dx, x1_ = x1 + dx, y0_ = y0 - dy, y1_ = y1 + dy;
}

bool LineChartFrame::shown(double x, double y) const {
  return std::isfinite(x) && std::isfinite(y) && (!log_x_ || x > 0);
}

QPointF LineChartFrame::map(double x, double y) const {
  const double u = log_x_ ? std::log2(x) : x;
  return {area_.left() + (u - x0_) / (x1_ - x0_) * area_.width(),
          area_.bottom() - (y - y0_) / (y1_ - y0_) * area_.height()};
}

void draw_line_chart(QPainter& painter, const QRectF& bounds, const LineChart& chart) {
  painter.save();
  painter.fillRect(bounds, Qt::white);
  painter.setRenderHint(QPainter::Antialiasing);
  const LineChartFrame frame(chart, bounds);
  const QRectF area = frame.area();
  const QFontMetrics metrics(painter.font());
  painter.setPen(Qt::black);
  painter.drawText(QRectF(bounds.left(), bounds.top() + 2, bounds.width(), kTop - 6),
                   Qt::AlignHCenter | Qt::AlignVCenter, chart.title);
  painter.drawRect(area);
  // x ticks: every distinct x value when few (block sizes, heads pruned), else five even ones.
  std::set<double> xs;
  for (const ChartSeries& s : chart.series) {
    for (size_t i = 0; s.markers && i < s.x.size() && i < s.y.size(); ++i) {
      if (frame.shown(s.x[i], s.y[i])) xs.insert(s.x[i]);
    }
  }
  if (xs.size() > kDataTicks || xs.empty()) {
    xs.clear();
    for (int i = 0; i <= 4; ++i) {
      const double u = frame.x_low() + (frame.x_high() - frame.x_low()) * i / 4;
      xs.insert(chart.log_x ? std::exp2(u) : u);
    }
  }
  // Every tick is marked; a label that would run into the one before it is left out (data
  // ticks crowd at the right end of a log axis: 500, 1000, 1519).
  double labelled_right = -std::numeric_limits<double>::infinity();
  for (double x : xs) {
    const double px = frame.map(x, frame.y_low()).x();
    painter.drawLine(QPointF(px, area.bottom()), QPointF(px, area.bottom() + 4));
    const QString label = number(x);
    const double half = metrics.horizontalAdvance(label) / 2.0;
    if (px - half < labelled_right + 4) continue;
    labelled_right = px + half;
    painter.drawText(QRectF(px - 40, area.bottom() + 4, 80, metrics.height()), Qt::AlignHCenter,
                     label);
  }
  for (int i = 0; i <= 4; ++i) {
    const double y = frame.y_low() + (frame.y_high() - frame.y_low()) * i / 4;
    const double py = frame.map(chart.log_x ? 1 : 0, y).y();
    painter.drawLine(QPointF(area.left() - 4, py), QPointF(area.left(), py));
    painter.drawText(
        QRectF(bounds.left(), py - metrics.height() / 2.0, kLeft - 8, metrics.height()),
        Qt::AlignRight | Qt::AlignVCenter, number(y));
  }
  painter.drawText(
      QRectF(area.left(), bounds.bottom() - metrics.height() - 2, area.width(), metrics.height()),
      Qt::AlignHCenter, chart.x_label + (chart.log_x ? QStringLiteral(" (log scale)") : QString()));
  painter.save();
  painter.translate(bounds.left() + 12, area.center().y());
  painter.rotate(-90);
  painter.drawText(
      QRectF(-area.height() / 2, -metrics.height() / 2.0, area.height(), metrics.height()),
      Qt::AlignHCenter, chart.y_label);
  painter.restore();
  painter.setClipRect(area);
  for (const ChartReference& ref : chart.references) {
    if (!std::isfinite(ref.y)) continue;
    const double py = frame.map(chart.log_x ? 1 : 0, ref.y).y();
    painter.setPen(QPen(Qt::gray, 1, Qt::DashLine));
    painter.drawLine(QPointF(area.left(), py), QPointF(area.right(), py));
    // Its name above the line, or below it where the line runs along the top.
    const double text_top = py - metrics.height() < area.top() ? py + 1 : py - metrics.height();
    painter.drawText(QRectF(area.left() + 4, text_top, area.width(), metrics.height()),
                     Qt::AlignLeft, ref.name);
  }
  for (const ChartSeries& s : chart.series) {
    QPolygonF line;
    for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (frame.shown(s.x[i], s.y[i])) line << frame.map(s.x[i], s.y[i]);
    }
    painter.setPen(QPen(s.colour, 2, s.dashed ? Qt::DashLine : Qt::SolidLine));
    painter.setBrush(Qt::NoBrush);
    painter.drawPolyline(line);
    if (!s.markers) continue;
    painter.setPen(QPen(s.colour, 1));
    painter.setBrush(s.colour);
    for (const QPointF& p : line) painter.drawEllipse(p, 3, 3);
  }
  painter.setClipping(false);
  const QRectF legend = legend_rect(chart, frame, metrics);
  double y = legend.top();
  for (const ChartSeries& s : chart.series) {
    if (s.name.isEmpty()) continue;
    const double w = metrics.horizontalAdvance(s.name) + 24;
    const double x = legend.left();
    painter.setPen(QPen(s.colour, 2, s.dashed ? Qt::DashLine : Qt::SolidLine));
    painter.drawLine(QPointF(x, y + metrics.height() / 2.0),
                     QPointF(x + 16, y + metrics.height() / 2.0));
    painter.setPen(Qt::black);
    painter.drawText(QRectF(x + 20, y, w, metrics.height()), Qt::AlignLeft, s.name);
    y += metrics.height() + 2;
  }
  painter.restore();
}

QRect chart_panel_rect(size_t index, const ChartPanelsOptions& options) {
  if (options.columns < 1) {
    throw InvalidInput("chart panels: " + std::to_string(options.columns) +
                       " columns; expected at least 1");
  }
  if (options.panel.width() < kMinPanelWidth || options.panel.height() < kMinPanelHeight) {
    throw InvalidInput("chart panels: " + std::to_string(options.panel.width()) + " x " +
                       std::to_string(options.panel.height()) +
                       " pixels per chart; expected at least " + std::to_string(kMinPanelWidth) +
                       " x " + std::to_string(kMinPanelHeight));
  }
  const auto columns = static_cast<size_t>(options.columns);
  const int top = options.title.isEmpty() ? 0 : kPanelsTitle;
  return QRect(static_cast<int>(index % columns) * options.panel.width(),
               top + static_cast<int>(index / columns) * options.panel.height(),
               options.panel.width(), options.panel.height());
}

QImage chart_panels_image(const std::vector<LineChart>& charts, const ChartPanelsOptions& options) {
  if (charts.empty()) throw InvalidInput("chart panels: no charts to draw");
  const QRect last = chart_panel_rect(charts.size() - 1, options);
  const int columns = std::min(options.columns, static_cast<int>(charts.size()));
  QImage image(columns * options.panel.width(), last.bottom() + 1, QImage::Format_RGB32);
  image.fill(Qt::white);
  QPainter painter(&image);
  if (!options.title.isEmpty()) {
    painter.setPen(Qt::black);
    painter.drawText(QRect(0, 0, image.width(), kPanelsTitle), Qt::AlignCenter, options.title);
  }
  for (size_t i = 0; i < charts.size(); ++i) {
    draw_line_chart(painter, QRectF(chart_panel_rect(i, options)), charts[i]);
  }
  return image;
}

}  // namespace headscope
