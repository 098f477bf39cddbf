#include "gui/views/line_chart_canvas.h"

#include <cmath>

#include <QtGui/QPainter>

#include "gui/views/hover_tooltip.h"

namespace headscope::gui {
namespace {

// Within this many pixels a point answers the hover.
constexpr double kHoverRadius = 8;

}  // namespace

LineChartCanvas::LineChartCanvas(QWidget* parent) : QWidget(parent) {
  setMouseTracking(true);
  setMinimumSize(240, 160);
}

void LineChartCanvas::set_chart(LineChart chart) {
  chart_ = std::move(chart);
  update();
}

QPointF LineChartCanvas::position(size_t series, size_t point) const {
  const ChartSeries& s = chart_.series.at(series);
  return LineChartFrame(chart_, QRectF(rect())).map(s.x.at(point), s.y.at(point));
}

QString LineChartCanvas::tooltip_at(QPoint point) const {
  const LineChartFrame frame(chart_, QRectF(rect()));
  double best = kHoverRadius;
  QString text;
  for (const ChartSeries& s : chart_.series) {
    for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (!frame.shown(s.x[i], s.y[i])) continue;
      const QPointF p = frame.map(s.x[i], s.y[i]);
      const double d = std::hypot(p.x() - point.x(), p.y() - point.y());
      if (d <= best) {
        best = d;
        text = QStringLiteral("%1 %2, %3 %4")
                   .arg(chart_.x_label, QString::number(s.x[i], 'g', 6), chart_.y_label,
                        QString::number(s.y[i], 'g', 6));
        if (!s.name.isEmpty()) text = s.name + QStringLiteral(": ") + text;
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
  draw_line_chart(painter, QRectF(rect()), chart_);
}

}  // namespace headscope::gui
