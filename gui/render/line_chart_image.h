// Line charts drawn with QPainter into a rectangle of any paint device: several named series of
// (x, y) points, axes with ticks (at the data's x values when there are few, as for block
// sizes), an optional logarithmic x axis, horizontal reference lines (a threshold) and a legend.
// NaN points are left out. The explorer's chart widget draws with it, and the CLI draws small
// multiples of charts into PNG files. As for head_grid_image.h, text needs fonts: the program
// owns a QGuiApplication before drawing.
#pragma once

#include <vector>

#include <QtCore/QRectF>
#include <QtCore/QSize>
#include <QtCore/QString>
#include <QtGui/QColor>
#include <QtGui/QImage>

class QPainter;

namespace headscope {

struct ChartSeries {
  QString name;  // its legend entry; empty: none (a series the title explains)
  QColor colour;
  std::vector<double> x, y;
  bool dashed = false;  // a dashed line, e.g. a model's curve beside the measured points
  bool markers = true;  // a dot at each point
};

struct ChartReference {
  QString name;
  double y = 0;
};

struct LineChart {
  QString title, x_label, y_label;
  bool log_x = false;  // needs x > 0; points at x <= 0 are left out
  std::vector<ChartSeries> series;
  std::vector<ChartReference> references;
  // Values the y axis covers beside the data (e.g. 0 and 1 for a probability, so that panels
  // of small multiples compare).
  std::vector<double> y_span;
};

// Where a chart drawn into `bounds` puts its points: the plot area inside the margins for the
// title, ticks and axis labels, and the data ranges (every shown point and reference, with a
// margin on every side so that markers on the edges stay whole).
class LineChartFrame {
 public:
  LineChartFrame(const LineChart& chart, const QRectF& bounds);

  // Whether a point is drawn: finite, and x > 0 on a logarithmic axis.
  bool shown(double x, double y) const;
  QPointF map(double x, double y) const;
  const QRectF& area() const { return area_; }
  double x_low() const { return x0_; }  // in axis units: log2(x) on a logarithmic axis
  double x_high() const { return x1_; }
  double y_low() const { return y0_; }
  double y_high() const { return y1_; }

 private:
  bool log_x_;
  QRectF area_;
  double x0_ = 0, x1_ = 1, y0_ = 0, y1_ = 1;
};

// Draws `chart` over `bounds` (white background, title, axes, references, series, legend). The
// x ticks sit at the x values of the series with markers when there are few of them (block
// sizes), else at five even places; the legend goes in the corner of the plot that covers the
// fewest points of the series.
void draw_line_chart(QPainter& painter, const QRectF& bounds, const LineChart& chart);

struct ChartPanelsOptions {
  int columns = 2;        // charts per row, filled left to right
  QSize panel{400, 260};  // pixels per chart
  QString title;          // a line above the panels; empty: none

  ChartPanelsOptions& with_columns(int v) { return columns = v, *this; }
  ChartPanelsOptions& with_panel(QSize v) { return panel = v, *this; }
  ChartPanelsOptions& with_title(QString v) { return title = std::move(v), *this; }
};

// Where chart_panels_image draws chart `index`. Throws as chart_panels_image.
QRect chart_panel_rect(size_t index, const ChartPanelsOptions& options);

// Small multiples: the charts in rows of options.columns on one white image. InvalidInput for
// no charts, columns < 1, or a panel under 160 x 120 pixels (no room for the axes).
QImage chart_panels_image(const std::vector<LineChart>& charts, const ChartPanelsOptions& options);

}  // namespace headscope
