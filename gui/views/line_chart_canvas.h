// A line chart widget (gui/render/line_chart_image.h draws it) with the nearest point's series
// and values as a tooltip.
#pragma once

#include <QtCore/QString>
#include <QtWidgets/QWidget>

#include "gui/render/line_chart_image.h"

namespace headscope::gui {

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
  LineChart chart_;
};

}  // namespace headscope::gui
