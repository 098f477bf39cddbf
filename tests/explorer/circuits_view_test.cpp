// The circuits view: the file's circuits with their methods, heads and edges; a circuit's edges
// strongest first; the overlap matrix of a chosen measure; and a file without circuits says so.
#include <gtest/gtest.h>
#include <QtGui/QStandardItemModel>

#include "core/store/analysis_writer.h"
#include "core/store/circuit_schema.h"
#include "gui/app/main_window.h"
#include "gui/views/circuits_view.h"
#include "tests/explorer/explorer_files.h"
#include "tests/explorer/window_wait.h"
#include "tests/support/temp_dir_test.h"

namespace headscope::gui {
namespace {

using test::kHeads;
using test::kLayers;

void write_circuit(const std::string& path, const std::string& name, const std::string& method,
                   const std::vector<std::string>& sender, const std::vector<double>& score) {
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
    out.write_strings(kCircuitEdgeReceiver, std::vector<std::string>(sender.size(), "logits"),
                      kDimEdge);
    out.write_f64(kCircuitEdgeScore, {e}, score, {kDimEdge});
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

TEST_F(CircuitsViewTest, AFileWithoutCircuitsSaysSo) {
  test::write_recording(path("a.h5"), {test::RunContents{}});
  CircuitsView& view = open(path("a.h5"));
  EXPECT_TRUE(view.message().contains("has no circuits")) << view.message().toStdString();
  EXPECT_EQ(view.shown(), nullptr);
  EXPECT_TRUE(view.csv().isEmpty());
}

}  // namespace
}  // namespace headscope::gui
