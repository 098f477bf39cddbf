#include "gui/views/circuit_graph_canvas.h"

#include <algorithm>
#include <cmath>

#include <QtGui/QMouseEvent>
#include <QtGui/QPainter>

#include "gui/render/colour_map.h"
#include "gui/views/hover_tooltip.h"

namespace headscope::gui {
namespace {

// Room for the legend and column labels above, the row labels on the left.
constexpr double kLeft = 44, kRight = 12, kTop = 40, kBottom = 8;
const QColor kNoScore(150, 150, 150);
const QColor kSelectedColour(220, 30, 60);

double distance_to_segment(QPointF p, QPointF a, QPointF b) {
  const QPointF ab = b - a;
  const double length2 = QPointF::dotProduct(ab, ab);
  const double t =
      length2 > 0 ? std::clamp(QPointF::dotProduct(p - a, ab) / length2, 0.0, 1.0) : 0.0;
  const QPointF d = p - (a + t * ab);
  return std::hypot(d.x(), d.y());
}

// Every `step`-th label where one per slot would overlap.
int label_step(double slot, double text) {
  return std::max(1, static_cast<int>(std::ceil(text / std::max(1.0, slot))));
}

}  // namespace

QString node_label(const GraphNode& node) {
  switch (node.kind) {
    case GraphNode::Kind::kInput:
      return QObject::tr("input");
    case GraphNode::Kind::kLogits:
      return QObject::tr("logits");
    case GraphNode::Kind::kMlp:
      return QObject::tr("m%1 (MLP of layer %1)").arg(node.layer);
    case GraphNode::Kind::kHead:
      break;
  }
  return QObject::tr("a%1.h%2 (layer %1, head %2)").arg(node.layer).arg(node.head);
}

CircuitGraphCanvas::CircuitGraphCanvas(QWidget* parent) : QWidget(parent) {
  setMouseTracking(true);
  setMinimumSize(240, 160);
}

void CircuitGraphCanvas::set_graph(std::shared_ptr<const CircuitGraph> graph) {
  graph_ = std::move(graph);
  update();
}

void CircuitGraphCanvas::set_selected(std::optional<HeadCell> cell) {
  selected_ = cell;
  update();
}

QRectF CircuitGraphCanvas::plot_area() const {
  return QRectF(kLeft, kTop, std::max(1.0, width() - kLeft - kRight),
                std::max(1.0, height() - kTop - kBottom));
}

QSizeF CircuitGraphCanvas::slot() const {
  if (!graph_) return {};
  const QRectF area = plot_area();
  const int64_t rows = std::max<int64_t>(1, graph_->heads + (graph_->has_mlp ? 1 : 0));
  return {area.width() / static_cast<double>(graph_->layers + 2),
          area.height() / static_cast<double>(rows)};
}

double CircuitGraphCanvas::node_radius() const {
  if (!graph_) return 0;
  return std::clamp(0.3 * std::min(slot().width(), slot().height()), 2.0, 10.0);
}

QPointF CircuitGraphCanvas::node_centre(size_t index) const {
  if (!graph_ || index >= graph_->nodes.size()) return {};
  const GraphNode& node = graph_->nodes[index];
  const QRectF area = plot_area();
  const double column = slot().width(), row = slot().height();
  const double heads_middle = area.top() + static_cast<double>(graph_->heads) * row / 2;
  switch (node.kind) {
    case GraphNode::Kind::kInput:
      return {area.left() + 0.5 * column, heads_middle};
    case GraphNode::Kind::kLogits:
      return {area.left() + (static_cast<double>(graph_->layers) + 1.5) * column, heads_middle};
    case GraphNode::Kind::kMlp:
      // Right of its layer's heads, so a head -> MLP edge of one layer is not drawn along the
      // head column.
      return {area.left() + (static_cast<double>(node.layer) + 1.8) * column,
              area.top() + (static_cast<double>(graph_->heads) + 0.5) * row};
    case GraphNode::Kind::kHead:
      break;
  }
  return {area.left() + (static_cast<double>(node.layer) + 1.5) * column,
          area.top() + (static_cast<double>(node.head) + 0.5) * row};
}

std::optional<size_t> CircuitGraphCanvas::node_at(QPoint point) const {
  if (!graph_) return std::nullopt;
  const double reach = node_radius() + 2;
  for (size_t i = 0; i < graph_->nodes.size(); ++i) {
    const QPointF d = QPointF(point) - node_centre(i);
    if (std::hypot(d.x(), d.y()) <= reach) return i;
  }
  return std::nullopt;
}

std::optional<size_t> CircuitGraphCanvas::edge_at(QPoint point) const {
  if (!graph_) return std::nullopt;
  // Strongest first: the edge drawn on top.
  for (size_t i = 0; i < graph_->edges.size(); ++i) {
    const GraphEdge& edge = graph_->edges[i];
    const double reach = std::max(3.0, edge_width(edge) / 2 + 2);
    if (distance_to_segment(QPointF(point), node_centre(edge.from), node_centre(edge.to)) <=
        reach) {
      return i;
    }
  }
  return std::nullopt;
}

double CircuitGraphCanvas::edge_width(const GraphEdge& edge) const {
  if (!graph_ || !std::isfinite(edge.score) || graph_->max_abs_score <= 0) return 1.0;
  return 1.0 + 5.0 * std::fabs(edge.score) / graph_->max_abs_score;
}

QColor CircuitGraphCanvas::edge_colour(const GraphEdge& edge) const {
  if (!graph_ || !std::isfinite(edge.score)) return kNoScore;
  const double t = graph_->max_abs_score > 0 ? std::fabs(edge.score) / graph_->max_abs_score : 0;
  // Weak edges fade towards the white background, strong ones keep the full hue.
  const double a = 0.25 + 0.75 * t;
  return diverging_colour(edge.score >= 0 ? a : -a);
}

QString CircuitGraphCanvas::tooltip_at(QPoint point) const {
  if (const std::optional<size_t> node = node_at(point)) {
    const GraphNode& n = graph_->nodes[*node];
    return node_label(n) + (n.selected ? tr(": in the circuit") : QString());
  }
  if (const std::optional<size_t> index = edge_at(point)) {
    const GraphEdge& edge = graph_->edges[*index];
    return tr("%1 → %2: score %3 (rank %4 of %5)")
        .arg(QString::fromStdString(edge.sender), QString::fromStdString(edge.receiver),
             QString::number(edge.score, 'g', 6))
        .arg(*index + 1)
        .arg(graph_->total_edges);
  }
  return {};
}

bool CircuitGraphCanvas::event(QEvent* event) {
  return answer_tooltip(*this, event, [this](QPoint point) { return tooltip_at(point); }) ||
         QWidget::event(event);
}

void CircuitGraphCanvas::paintEvent(QPaintEvent*) {
  QPainter painter(this);
  painter.fillRect(rect(), Qt::white);
  if (!graph_) return;
  painter.setRenderHint(QPainter::Antialiasing);
  const QRectF area = plot_area();
  const QFontMetrics metrics(painter.font());
  painter.setPen(Qt::black);
  painter.drawText(QRectF(4, 2, width() - 8, metrics.height() + 2),
                   Qt::AlignLeft | Qt::AlignVCenter,
                   tr("%1 strongest of %2 edges by |score| (largest %3); red positive, blue "
                      "negative; filled heads: the circuit's")
                       .arg(graph_->edges.size())
                       .arg(graph_->total_edges)
                       .arg(graph_->max_abs_score, 0, 'g', 4));
  // Column and row labels.
  const double column = slot().width(), row = slot().height();
  const int column_step = label_step(column, metrics.horizontalAdvance("L00") + 4);
  const double label_y = area.top() - metrics.height() - 2;
  auto column_label = [&](double centre, const QString& text) {
    painter.drawText(
        QRectF(centre - column / 2 * column_step, label_y, column * column_step, metrics.height()),
        Qt::AlignCenter, text);
  };
  if (graph_->has_input) column_label(area.left() + 0.5 * column, tr("input"));
  for (int64_t l = 0; l < graph_->layers; l += column_step) {
    column_label(area.left() + (static_cast<double>(l) + 1.5) * column, tr("L%1").arg(l));
  }
  if (graph_->has_logits) {
    column_label(area.left() + (static_cast<double>(graph_->layers) + 1.5) * column, tr("logits"));
  }
  const int row_step = label_step(row, metrics.height());
  auto row_label = [&](int64_t r, const QString& text) {
    painter.drawText(QRectF(0, area.top() + static_cast<double>(r) * row, kLeft - 6, row),
                     Qt::AlignRight | Qt::AlignVCenter, text);
  };
  for (int64_t h = 0; h < graph_->heads; h += row_step) row_label(h, tr("h%1").arg(h));
  if (graph_->has_mlp) row_label(graph_->heads, tr("mlp"));
  // Weakest first, so the strongest edges lie on top.
  for (auto e = graph_->edges.rbegin(); e != graph_->edges.rend(); ++e) {
    painter.setPen(QPen(edge_colour(*e), edge_width(*e), Qt::SolidLine, Qt::RoundCap));
    painter.drawLine(node_centre(e->from), node_centre(e->to));
  }
  std::vector<bool> endpoint(graph_->nodes.size(), false);
  for (const GraphEdge& e : graph_->edges) endpoint[e.from] = endpoint[e.to] = true;
  const double radius = node_radius();
  for (size_t i = 0; i < graph_->nodes.size(); ++i) {
    const GraphNode& node = graph_->nodes[i];
    const bool head = node.kind == GraphNode::Kind::kHead;
    const double r = head ? radius : radius * 1.3;
    painter.setPen(QPen(endpoint[i] ? QColor(Qt::black) : QColor(170, 170, 170), 1));
    painter.setBrush(node.selected ? QColor(70, 70, 70)
                     : head        ? QColor(240, 240, 240)
                                   : QColor(255, 230, 160));
    painter.drawEllipse(node_centre(i), r, r);
    if (selected_ && head && selected_->layer == node.layer && selected_->head == node.head) {
      painter.setBrush(Qt::NoBrush);
      painter.setPen(QPen(kSelectedColour, 2));
      painter.drawEllipse(node_centre(i), r + 3, r + 3);
    }
  }
}

void CircuitGraphCanvas::mousePressEvent(QMouseEvent* event) {
  if (event->button() != Qt::LeftButton) return;
  if (const std::optional<size_t> index = node_at(event->position().toPoint())) {
    const GraphNode& node = graph_->nodes[*index];
    if (node.kind == GraphNode::Kind::kHead && on_click_) {
      on_click_(HeadCell{static_cast<int>(node.layer), static_cast<int>(node.head)});
    }
  }
}

}  // namespace headscope::gui
