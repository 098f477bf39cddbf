// A bar chart drawn with QPainter: one bar per item in the order given (the views sort them),
// zero line and value axis, the hovered bar's label and value as a tooltip, marked bars drawn in
// a second colour, the selected bar outlined, and clicks reported by item index.
#pragma once

#include <functional>
#include <optional>
#include <vector>

#include <QtCore/QString>
#include <QtWidgets/QWidget>

namespace headscope::gui {

struct Bar {
  QString label;  // the tooltip's name: "layer 1, head 2"
  double value = 0;
  bool marked = false;  // e.g. an ablated head
};

class BarChartCanvas : public QWidget {
 public:
  explicit BarChartCanvas(QWidget* parent = nullptr);

  void set_bars(std::vector<Bar> bars, QString value_label);
  void set_selected(std::optional<int> index);
  void on_click(std::function<void(int)> handler) { on_click_ = std::move(handler); }

  // The bar under a point (nullopt off the bars), a bar's centre (the origin when there are
  // none), and the hover text at a point:
  // what a user sees, for tests.
  std::optional<int> bar_at(QPoint point) const;
  QPoint bar_centre(int index) const;
  QString tooltip_at(QPoint point) const;

  QSize sizeHint() const override { return {600, 260}; }

 protected:
  bool event(QEvent* event) override;
  void paintEvent(QPaintEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;

 private:
  QRectF plot_area() const;
  // The value range the axis spans: always includes 0, so bars start at the zero line.
  std::pair<double, double> range() const;
  double y_of(double value) const;

  std::vector<Bar> bars_;
  QString value_label_;
  std::optional<int> selected_;
  std::function<void(int)> on_click_;
};

}  // namespace headscope::gui
