// A line chart drawn with QPainter: several named series of (x, y) points with markers, axes
// with ticks (at the data's x values when there are few, as for block sizes), an optional
// logarithmic x axis and horizontal reference lines (a threshold), a legend, and the nearest
// point's series and values as a tooltip. NaN points are left out.
#pragma once

#include <vector>

#include <QtCore/QString>
#include <QtGui/QColor>
#include <QtWidgets/QWidget>

namespace headscope::gui {

struct ChartSeries {
  QString name;
  QColor colour;
  std::vector<double> x, y;
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
};

class LineChartCanvas : public QWidget {
 public:
  explicit LineChartCanvas(QWidget* parent = nullptr);

  void set_chart(LineChart chart);
  const LineChart& chart() const { return chart_; }

  // Where a point of a series is drawn, and the hover text at a widget point (empty when no
  // point is within a few pixels): what a user sees, for tests.
  QPointF position(size_t series, size_t point) const;
  QString tooltip_at(QPoint point) const;

  QSize sizeHint() const override { return {480, 300}; }

 protected:
  bool event(QEvent* event) override;
  void paintEvent(QPaintEvent* event) override;

 private:
  struct Ranges {
    double x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  };
  bool shown(double x, double y) const;
  Ranges ranges() const;
  QRectF plot_area() const;
  QPointF map(double x, double y, const Ranges& r) const;

  LineChart chart_;
};

}  // namespace headscope::gui
