// The circuits view: the file's circuits with their methods, heads and edges; a circuit's edges
// strongest first; its graph drawing the file's strongest edges between the nodes they name,
// hover and click on it; the overlap matrix of a chosen measure; and a file without circuits, or
// with an edge naming no node, says so.
#include <gtest/gtest.h>
#include <QtGui/QMouseEvent>
#include <QtGui/QStandardItemModel>
#include <QtTest/QTest>

#include "core/store/analysis_writer.h"
#include "core/store/circuit_schema.h"
#include "gui/app/main_window.h"
#include "gui/views/circuit_graph_canvas.h"
#include "gui/views/circuits_view.h"
#include "gui/views/line_chart_canvas.h"
#include "gui/views/view_export.h"
#include "tests/explorer/explorer_files.h"
#include "tests/explorer/window_wait.h"
#include "tests/support/temp_dir_test.h"

namespace headscope::gui {
namespace {

using test::kHeads;
using test::kLayers;

// A faithfulness curve as `headscope eap` writes it; a dataset left empty is not written.
struct Faithfulness {
  std::vector<int64_t> edges;
  std::vector<double> metric, score;
};

// Edges into `receiver`, or into the logits when it is empty.
void write_circuit(const std::string& path, const std::string& name, const std::string& method,
                   const std::vector<std::string>& sender, const std::vector<double>& score,
                   std::vector<std::string> receiver = {}, const Faithfulness& curve = {}) {
  if (receiver.empty()) receiver.assign(sender.size(), "logits");
  AnalysisWriter out = AnalysisWriter::begin(AnalysisTarget{path, test::explorer_model()},
                                             kCircuitsCollection, name);
  std::vector<double> scores(static_cast<size_t>(kLayers * kHeads), 0.5);
  std::vector<int64_t> selected(static_cast<size_t>(kLayers * kHeads), 0);
  selected[1] = selected[4] = 1;
  out.write_f64(kCircuitScores, {kLayers, kHeads}, scores, {"layer", "head"});
  out.write_array(kCircuitSelected, DType::kU8, {kLayers, kHeads},
                  std::vector<uint8_t>(selected.begin(), selected.end()).data(), {"layer", "head"});
  if (!sender.empty()) {
    const auto e = static_cast<int64_t>(sender.size());
    out.write_strings(kCircuitEdgeSender, sender, kDimEdge);
    out.write_strings(kCircuitEdgeReceiver, receiver, kDimEdge);
    out.write_f64(kCircuitEdgeScore, {e}, score, {kDimEdge});
  }
  if (!curve.edges.empty()) {
    out.write_i64(kCircuitFaithfulnessEdges, {static_cast<int64_t>(curve.edges.size())},
                  curve.edges, {kDimPoint});
  }
  if (!curve.metric.empty()) {
    out.write_f64(kCircuitFaithfulnessMetric, {static_cast<int64_t>(curve.metric.size())},
                  curve.metric, {kDimPoint});
  }
  if (!curve.score.empty()) {
    out.write_f64(kCircuitFaithfulnessScore, {static_cast<int64_t>(curve.score.size())},
                  curve.score, {kDimPoint});
  }
  out.set_attribute("", kAttrMethod, method);
  out.commit();
}

void write_overlap(const std::string& path) {
  AnalysisWriter out = AnalysisWriter::begin(path, kCircuitOverlapAnalysis, test::explorer_model());
  out.write_scale(kDimCircuitA, std::vector<std::string>{"ioi", "ioi_eap"});
  out.write_scale(kDimCircuitB, std::vector<std::string>{"ioi", "ioi_eap"});
  out.write_f64("jaccard", {2, 2}, {1.0, 0.25, 0.25, 1.0}, {kDimCircuitA, kDimCircuitB});
  out.write_f64("containment", {2, 2}, {1.0, 0.5, 0.125, 1.0}, {kDimCircuitA, kDimCircuitB});
  out.commit();
}

class CircuitsViewTest : public test::TempDirTest {
 protected:
  void TearDown() override {
    window_.reset();
    TempDirTest::TearDown();
  }
  CircuitsView& open(const std::string& file) {
    window_ = std::make_unique<MainWindow>();
    window_->resize(1200, 800);
    window_->show();
    EXPECT_TRUE(window_->open_files({file}).empty());
    window_->show_view("circuits");
    window_->workspace().select({0, 0, 0, 0});
    test::wait_idle(*window_);
    return *static_cast<CircuitsView*>(window_->view("circuits"));
  }
  std::unique_ptr<MainWindow> window_;
};

TEST_F(CircuitsViewTest, ListsCircuitsEdgesAndOverlap) {
  test::write_recording(path("c.h5"), {test::RunContents{8, false, false}}, false);
  write_circuit(path("c.h5"), "ioi", "activation_patching", {}, {});
  write_circuit(path("c.h5"), "ioi_eap", "eap", {"a0.h1", "a1.h0", "m0"}, {0.1, -0.7, 0.3});
  write_overlap(path("c.h5"));
  CircuitsView& view = open(path("c.h5"));
  ASSERT_NE(view.shown(), nullptr) << view.message().toStdString();
  ASSERT_EQ(view.shown()->circuits.size(), 2u);
  EXPECT_EQ(view.shown()->circuits[1].method, "eap");
  EXPECT_EQ(view.shown()->circuits[1].selected_heads, 2);
  EXPECT_TRUE(view.message().contains("2 circuits, overlap of 2")) << view.message().toStdString();

  view.choose_circuit(1);
  QStandardItemModel& edges = *view.edge_model();
  ASSERT_EQ(edges.rowCount(), 3);
  EXPECT_EQ(edges.item(0, 0)->text(), "a1.h0");  // |-0.7| first
  EXPECT_EQ(edges.item(0, 2)->data(Qt::DisplayRole).toDouble(), -0.7);
  EXPECT_EQ(edges.item(2, 0)->text(), "a0.h1");
  EXPECT_EQ(view.csv(),
            "sender,receiver,score\n\"a1.h0\",\"logits\",-0.69999999999999996\n"
            "\"m0\",\"logits\",0.29999999999999999\n"
            "\"a0.h1\",\"logits\",0.10000000000000001\n");

  QStandardItemModel& overlap = *view.overlap_model();
  ASSERT_EQ(overlap.rowCount(), 2);
  EXPECT_EQ(overlap.item(0, 1)->data(Qt::DisplayRole).toDouble(), 0.25);  // jaccard first
  ASSERT_TRUE(view.choose_measure("containment"));
  EXPECT_EQ(overlap.item(1, 0)->data(Qt::DisplayRole).toDouble(), 0.125);
  EXPECT_EQ(overlap.headerData(1, Qt::Horizontal).toString(), "ioi_eap");
  EXPECT_FALSE(view.choose_measure("no such measure"));
}

TEST_F(CircuitsViewTest, GraphDrawsTheStrongestEdgesBetweenTheirNodes) {
  test::write_recording(path("g.h5"), {test::RunContents{8, false, false}}, false);
  // Every kind of node; the scores' magnitudes distinct, so the strongest five are known.
  const std::vector<std::string> sender = {"input", "a0.h0", "a0.h2", "m0",
                                           "a1.h1", "a0.h1", "input"};
  const std::vector<std::string> receiver = {"a0.h1<q>", "a1.h2<v>", "logits", "a1.h0<k>",
                                             "logits",   "m1",       "m0"};
  const std::vector<double> score = {0.05, -0.9, 0.6, -0.3, 0.45, 0.2, -0.1};
  write_circuit(path("g.h5"), "eap", "eap", sender, score, receiver);
  CircuitsView& view = open(path("g.h5"));
  ASSERT_NE(view.shown(), nullptr) << view.message().toStdString();
  view.set_graph_edges(5);
  CircuitGraphCanvas& canvas = *view.graph();
  ASSERT_NE(canvas.graph(), nullptr);
  const CircuitGraph& graph = *canvas.graph();
  EXPECT_EQ(graph.layers, test::kLayers);
  EXPECT_EQ(graph.heads, test::kHeads);
  EXPECT_TRUE(graph.has_input && graph.has_mlp && graph.has_logits);
  EXPECT_EQ(graph.total_edges, sender.size());

  // The file's edges by |score|, the strongest five: what is drawn, joining the named nodes.
  const std::vector<size_t> strongest = {1, 2, 4, 3, 5};
  ASSERT_EQ(graph.edges.size(), strongest.size());
  for (size_t i = 0; i < strongest.size(); ++i) {
    const GraphEdge& edge = graph.edges[i];
    const size_t e = strongest[i];
    EXPECT_EQ(edge.index, e);
    EXPECT_EQ(edge.sender, sender[e]);
    EXPECT_EQ(edge.receiver, receiver[e]);
    EXPECT_EQ(edge.score, score[e]);
    EXPECT_EQ(edge.from, *graph.find(parse_circuit_node(sender[e])->node)) << i;
    EXPECT_EQ(edge.to, *graph.find(parse_circuit_node(receiver[e])->node)) << i;
  }
  EXPECT_EQ(graph.max_abs_score, 0.9);
  EXPECT_GT(canvas.edge_width(graph.edges[0]), canvas.edge_width(graph.edges[4]));
  EXPECT_NE(canvas.edge_colour(graph.edges[0]), canvas.edge_colour(graph.edges[1]));  // sign

  // Heads in layer columns and head rows; the input left of layer 0, the logits right of the
  // last layer, the MLPs below the heads, right of their layer's.
  auto centre = [&](const std::string& name) {
    return canvas.node_centre(*graph.find(parse_circuit_node(name)->node));
  };
  EXPECT_LT(centre("a0.h0").x(), centre("a1.h0").x());
  EXPECT_EQ(centre("a0.h0").x(), centre("a0.h2").x());
  EXPECT_LT(centre("a0.h0").y(), centre("a0.h1").y());
  EXPECT_LT(centre("input").x(), centre("a0.h0").x());
  EXPECT_GT(centre("logits").x(), centre("a1.h0").x());
  EXPECT_GT(centre("m0").y(), centre("a0.h2").y());
  EXPECT_GT(centre("m0").x(), centre("a0.h0").x());
  EXPECT_LT(centre("m0").x(), centre("a1.h0").x());

  // Hover on an edge's middle names it and its score; each drawn edge's middle is painted.
  const QImage image = canvas.grab().toImage();
  for (size_t i = 0; i < graph.edges.size(); ++i) {
    const QPointF middle =
        (canvas.node_centre(graph.edges[i].from) + canvas.node_centre(graph.edges[i].to)) / 2;
    EXPECT_NE(image.pixelColor(middle.toPoint()), QColor(Qt::white)) << i;
  }
  const QPointF strongest_middle =
      (canvas.node_centre(graph.edges[0].from) + canvas.node_centre(graph.edges[0].to)) / 2;
  EXPECT_EQ(canvas.tooltip_at(strongest_middle.toPoint()),
            "a0.h0 → a1.h2<v>: score -0.9 (rank 1 of 7)");
  // write_circuit selects heads 0.1 and 1.1.
  EXPECT_EQ(canvas.tooltip_at(centre("a0.h1").toPoint()),
            "a0.h1 (layer 0, head 1): in the circuit");
  EXPECT_EQ(canvas.tooltip_at(centre("a0.h0").toPoint()), "a0.h0 (layer 0, head 0)");
  EXPECT_EQ(canvas.tooltip_at(QPoint(1, 1)), "");

  // A click on a head selects it for every view.
  QTest::mouseClick(&canvas, Qt::LeftButton, {}, centre("a1.h2").toPoint());
  EXPECT_EQ(window_->workspace().selection().layer, 1);
  EXPECT_EQ(window_->workspace().selection().head, 2);

  // Every edge when asked; the view exports a picture with the graph in it.
  view.set_graph_edges(100);
  EXPECT_EQ(canvas.graph()->edges.size(), sender.size());
  EXPECT_GT(test::colours(canvas.grab().toImage()), 8u);
  export_view(view, view.csv(), path("graph.png"));
  EXPECT_GT(test::colours(QImage(QString::fromStdString(path("graph.png")))), 8u);
}

TEST_F(CircuitsViewTest, DrawsTheFaithfulnessCurve) {
  test::write_recording(path("f.h5"), {test::RunContents{8, false, false}}, false);
  const Faithfulness curve{{0, 1, 2, 3}, {-0.5, 0.25, 1.0, 1.5}, {0.0, 0.375, 0.75, 1.0}};
  write_circuit(path("f.h5"), "eap", "eap", {"a0.h1", "a1.h0", "m0"}, {0.1, -0.7, 0.3}, {}, curve);
  write_circuit(path("f.h5"), "patching", "activation_patching", {}, {});
  CircuitsView& view = open(path("f.h5"));
  ASSERT_NE(view.shown(), nullptr) << view.message().toStdString();
  const CircuitEdges& circuit = view.shown()->circuits[0];
  EXPECT_EQ(circuit.faithfulness_edges, curve.edges);
  EXPECT_EQ(circuit.faithfulness_metric, curve.metric);

  // The chart shows the file's points: edges kept against normalised faithfulness.
  LineChartCanvas& chart = *view.faithfulness_chart();
  ASSERT_EQ(chart.chart().series.size(), 1u);
  const ChartSeries& series = chart.chart().series[0];
  EXPECT_EQ(series.x, std::vector<double>({0, 1, 2, 3}));
  EXPECT_EQ(series.y, curve.score);
  EXPECT_TRUE(chart.chart().title.contains("eap"));
  EXPECT_TRUE(chart.chart().log_x);
  const QString hover = chart.tooltip_at(chart.position(0, 1).toPoint());
  EXPECT_EQ(hover, "edges kept 1, faithfulness 0.375") << hover.toStdString();
  EXPECT_GT(test::colours(chart.grab().toImage()), 4u);

  // A circuit without a curve (head scores only) leaves the chart empty.
  view.choose_circuit(1);
  EXPECT_TRUE(chart.chart().series.empty());
  view.choose_circuit(0);
  EXPECT_EQ(chart.chart().series.size(), 1u);
}

TEST_F(CircuitsViewTest, AFaithfulnessCurveMissingADatasetIsReported) {
  test::write_recording(path("m.h5"), {test::RunContents{8, false, false}}, false);
  write_circuit(path("m.h5"), "eap", "eap", {"a0.h1"}, {0.5}, {}, {{0, 1}, {0.0, 1.0}, {}});
  CircuitsView& view = open(path("m.h5"));
  EXPECT_EQ(view.shown(), nullptr);
  EXPECT_TRUE(view.message().contains("faithfulness/score")) << view.message().toStdString();
}

TEST_F(CircuitsViewTest, AnEdgeNamingNoNodeIsReported) {
  test::write_recording(path("b.h5"), {test::RunContents{8, false, false}}, false);
  write_circuit(path("b.h5"), "odd", "eap", {"a0.h1", "resid7"}, {0.5, 0.25});
  CircuitsView& view = open(path("b.h5"));
  ASSERT_NE(view.shown(), nullptr) << view.message().toStdString();
  EXPECT_EQ(view.graph()->graph(), nullptr);
  EXPECT_EQ(view.edge_model()->rowCount(), 2);  // the table still lists the edges
  const QString text = view.graph_message();
  EXPECT_TRUE(text.contains("edge 1: 'resid7' is not a node name")) << text.toStdString();
}

TEST_F(CircuitsViewTest, AFileWithoutCircuitsSaysSo) {
  test::write_recording(path("a.h5"), {test::RunContents{}});
  CircuitsView& view = open(path("a.h5"));
  EXPECT_TRUE(view.message().contains("has no circuits")) << view.message().toStdString();
  EXPECT_EQ(view.shown(), nullptr);
  EXPECT_TRUE(view.csv().isEmpty());
}

}  // namespace
}  // namespace headscope::gui
