// The circuit graph widget: a circuit's heads in layer columns and head rows (MLP nodes in a
// row below, right of their layer's heads; the input left of layer 0, the logits right of the
// last layer), its strongest edges drawn with width and colour by score (red positive, blue
// negative, stronger wider and darker), the circuit's selected heads filled, the workspace's
// head ringed; hover names an edge and its score or a node, a click on a head reports it.
#pragma once

#include <functional>
#include <memory>
#include <optional>

#include <QtCore/QPointF>
#include <QtWidgets/QWidget>

#include "gui/models/circuit_graph.h"
#include "gui/render/head_grid_image.h"

namespace headscope::gui {

class CircuitGraphCanvas : public QWidget {
 public:
  explicit CircuitGraphCanvas(QWidget* parent = nullptr);

  // Null shows nothing.
  void set_graph(std::shared_ptr<const CircuitGraph> graph);
  void set_selected(std::optional<HeadCell> cell);
  void on_click(std::function<void(HeadCell)> handler) { on_click_ = std::move(handler); }
  std::shared_ptr<const CircuitGraph> graph() const { return graph_; }

  // Where a node is drawn, the node or drawn edge under a point (a node wins), and the hover
  // text at a point: what a user sees, for tests.
  QPointF node_centre(size_t node) const;
  std::optional<size_t> node_at(QPoint point) const;
  std::optional<size_t> edge_at(QPoint point) const;
  QString tooltip_at(QPoint point) const;
  // An edge's pen width and colour.
  double edge_width(const GraphEdge& edge) const;
  QColor edge_colour(const GraphEdge& edge) const;

  QSize sizeHint() const override { return {700, 360}; }

 protected:
  bool event(QEvent* event) override;
  void paintEvent(QPaintEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;

 private:
  // Column 0 the input, 1 .. L the layers, L + 1 the logits; rows 0 .. H - 1 the heads, H the
  // MLPs.
  QRectF plot_area() const;
  // One column's width and one row's height.
  QSizeF slot() const;
  double node_radius() const;

  std::shared_ptr<const CircuitGraph> graph_;
  std::optional<HeadCell> selected_;
  std::function<void(HeadCell)> on_click_;
};

// "a1.h2 (layer 1, head 2)", "m0 (MLP of layer 0)", "input", "logits".
QString node_label(const GraphNode& node);

}  // namespace headscope::gui
