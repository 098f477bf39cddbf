// The compare view: a quantity of two files side by side and as a difference, two runs of one
// file (and the selected head's statistic at every query of each run, as the file has it), hover
// and click on the grids, and quantities of different shapes giving a message.
#include <cmath>

#include <gtest/gtest.h>
#include <QtCore/QCoreApplication>
#include <QtGui/QMouseEvent>

#include "gui/app/main_window.h"
#include "gui/models/head_difference.h"
#include "gui/views/compare_view.h"
#include "gui/views/head_grid_canvas.h"
#include "gui/views/line_chart_canvas.h"
#include "tests/explorer/explorer_files.h"
#include "tests/explorer/window_test.h"
#include "tests/explorer/window_wait.h"

namespace headscope::gui {
namespace {

using test::kHeads;
using test::kLayers;

double other_score(int64_t l, int64_t h) {
  return 2 * test::analysis_score(l, h) + 0.5;
}

// A second file: the same model's retrieval scores of another run (or model of the family), or
// (layers) a score of another shape.
void write_other(const std::string& path, int64_t layers = kLayers) {
  test::write_recording(path, {test::RunContents{8, false, false}}, false);
  AnalysisWriter out = AnalysisWriter::begin(path, "retrieval_heads", test::explorer_model());
  std::vector<double> scores;
  for (int64_t l = 0; l < layers; ++l) {
    for (int64_t h = 0; h < kHeads; ++h) scores.push_back(other_score(l, h));
  }
  out.write_f64("retrieval_score", {layers, kHeads}, scores, {"layer", "head"});
  out.commit();
}

class CompareViewTest : public test::WindowTest {
 protected:
  CompareView& open(const std::vector<std::string>& files) {
    return open_view<CompareView>(files, "compare", std::nullopt);
  }
};

TEST_F(CompareViewTest, TwoFilesSideBySideAndTheirDifference) {
  test::write_recording(path("a.h5"), {test::RunContents{}});
  write_other(path("b.h5"));
  CompareView& view = open({path("a.h5"), path("b.h5")});
  EXPECT_TRUE(view.choices().contains("b.h5: retrieval_heads/retrieval_score"));
  // B follows A's quantity into the second file on its own.
  ASSERT_NE(view.shown(), nullptr) << view.message().toStdString();
  const HeadComparison& shown = *view.shown();
  EXPECT_EQ(shown.a.quantity.path, "/analyses/retrieval_heads/retrieval_score");
  EXPECT_EQ(shown.b.quantity.path, "/analyses/retrieval_heads/retrieval_score");
  for (int64_t l = 0; l < kLayers; ++l) {
    for (int64_t h = 0; h < kHeads; ++h) {
      EXPECT_EQ(shown.a.at(l, h), test::analysis_score(l, h));
      EXPECT_EQ(shown.b.at(l, h), other_score(l, h));
      EXPECT_EQ(shown.difference.at(l, h), test::analysis_score(l, h) - other_score(l, h));
    }
  }
  HeadGridCanvas& difference = *view.grid_difference();
  EXPECT_EQ(difference.tooltip_at(difference.cell_centre({1, 2})),
            "layer 1, head 2: " +
                QString::number(test::analysis_score(1, 2) - other_score(1, 2), 'g', 6));
  const QStringList csv = view.csv().split('\n', Qt::SkipEmptyParts);
  ASSERT_EQ(csv.size(), kLayers * kHeads + 1);
  EXPECT_EQ(csv[0], "layer,head,A,B,A - B");
  EXPECT_EQ(csv[6], QStringLiteral("1,2,%1,%2,%3")
                        .arg(QString::number(test::analysis_score(1, 2), 'g', 17),
                             QString::number(other_score(1, 2), 'g', 17),
                             QString::number(shown.difference.at(1, 2), 'g', 17)));

  // A click on any grid selects the head.
  HeadGridCanvas& b = *view.grid_b();
  const QPoint centre = b.cell_centre({1, 0});
  QMouseEvent press(QEvent::MouseButtonPress, centre, b.mapToGlobal(centre), Qt::LeftButton,
                    Qt::LeftButton, Qt::NoModifier);
  QCoreApplication::sendEvent(&b, &press);
  EXPECT_EQ(window_->workspace().selection().layer, 1);
  EXPECT_EQ(window_->workspace().selection().head, 0);
  EXPECT_GT(test::colours(view.grab().toImage()), 8u);
}

TEST_F(CompareViewTest, TwoRunsOfOneFile) {
  test::write_recording(path("a.h5"), {test::RunContents{}, test::RunContents{12}});
  CompareView& view = open({path("a.h5")});
  ASSERT_TRUE(view.choose("a.h5: run 1: mean max prob", "a.h5: run 0: mean entropy"));
  test::wait_idle(*window_);
  ASSERT_NE(view.shown(), nullptr) << view.message().toStdString();
  // statistic_value differs by 0.5 per statistic index, the same for every query: max prob
  // (3) - entropy (0) = 1.5 but for the queries' offsets, whose means differ between 8 and 12
  // queries. Values below 2 are stored as float32: each mean is within 2^-22 of its exact value.
  for (int64_t l = 0; l < kLayers; ++l) {
    for (int64_t h = 0; h < kHeads; ++h) {
      const double offset_12 = 0.001 * 5.5, offset_8 = 0.001 * 3.5;
      EXPECT_NEAR(view.shown()->difference.at(l, h), 1.5 + offset_12 - offset_8,
                  2 * std::ldexp(1.0, -22));
    }
  }

  // The selected head at every query: run 1's max prob (12 queries), run 0's entropy (8), and
  // their difference at the 8 queries both have; float32 values as stored, differences of them.
  window_->workspace().select_head(1, 2);
  test::wait_idle(*window_);
  ASSERT_NE(view.queries_shown(), nullptr) << view.query_message().toStdString();
  const LineChart& chart = view.query_chart()->chart();
  ASSERT_EQ(chart.series.size(), 3u);
  EXPECT_EQ(chart.y_label, "A: max_prob, B: entropy");
  const size_t lengths[] = {12, 8, 8};
  for (size_t s = 0; s < 3; ++s) {
    ASSERT_EQ(chart.series[s].y.size(), lengths[s]) << s;
    for (size_t q = 0; q < lengths[s]; ++q) {
      const auto query = static_cast<int64_t>(q);
      const double a = test::statistic_value(3, 1, 2, query);
      const double b = test::statistic_value(0, 1, 2, query);
      EXPECT_EQ(chart.series[s].x[q], static_cast<double>(q));
      EXPECT_EQ(chart.series[s].y[q], s == 0 ? a : s == 1 ? b : a - b) << s << " " << q;
    }
  }
  // Another head is read again; a quantity without per-query values says so.
  window_->workspace().select_head(0, 1);
  test::wait_idle(*window_);
  ASSERT_NE(view.queries_shown(), nullptr);
  EXPECT_EQ(view.query_chart()->chart().series[0].y[5], test::statistic_value(3, 0, 1, 5));
  EXPECT_FALSE(view.choose("a.h5: nothing", "a.h5: run 0: mean entropy"));
  ASSERT_TRUE(view.choose("a.h5: run 1: mean max prob", "a.h5: run 1: mean max prob"));
  test::wait_idle(*window_);
  for (double d : view.query_chart()->chart().series[2].y) EXPECT_EQ(d, 0.0);
}

TEST_F(CompareViewTest, QueriesNeedRunStatistics) {
  test::write_recording(path("a.h5"), {test::RunContents{}});
  write_other(path("b.h5"));
  CompareView& view = open({path("a.h5"), path("b.h5")});
  window_->workspace().select_head(1, 1);
  test::wait_idle(*window_);
  EXPECT_EQ(view.queries_shown(), nullptr);
  EXPECT_TRUE(view.query_message().contains("Choose two run statistics"))
      << view.query_message().toStdString();
  EXPECT_TRUE(view.query_chart()->chart().series.empty());
}

TEST_F(CompareViewTest, QuantitiesOfDifferentShapesGiveAMessage) {
  test::write_recording(path("a.h5"), {test::RunContents{}});
  write_other(path("b.h5"), 1);
  CompareView& view = open({path("a.h5"), path("b.h5")});
  ASSERT_TRUE(view.choose("a.h5: retrieval_heads/retrieval_score",
                          "b.h5: retrieval_heads/retrieval_score"));
  test::wait_idle(*window_);
  EXPECT_EQ(view.shown(), nullptr);
  EXPECT_TRUE(view.message().contains("[2, 3]")) << view.message().toStdString();
  EXPECT_TRUE(view.message().contains("[1, 3]")) << view.message().toStdString();
  EXPECT_TRUE(view.message().contains("shapes differ")) << view.message().toStdString();
  EXPECT_TRUE(view.csv().isEmpty());
}

}  // namespace
}  // namespace headscope::gui
