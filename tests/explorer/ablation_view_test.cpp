// The ablation and importance view: heads as bars sorted by importance with the ablated heads
// marked, hover and click on a bar, the pruning curve and the ablation's scores as the file
// holds them; a file without the analyses, or with a group missing a dataset, says so.
#include <algorithm>
#include <cmath>

#include <gtest/gtest.h>
#include <QtCore/QCoreApplication>
#include <QtCore/QStringList>
#include <QtGui/QMouseEvent>

#include "gui/app/main_window.h"
#include "gui/models/head_effects.h"
#include "gui/views/ablation_view.h"
#include "gui/views/bar_chart_canvas.h"
#include "gui/views/line_chart_canvas.h"
#include "tests/explorer/analysis_files.h"
#include "tests/explorer/window_test.h"
#include "tests/explorer/window_wait.h"

namespace headscope::gui {
namespace {

using test::kHeads;
using test::kLayers;

class AblationViewTest : public test::WindowTest {
 protected:
  AblationView& open(const std::string& file) {
    return open_view<AblationView>({file}, "ablation", HeadSelection{0, 0, 0, 0});
  }
};

TEST_F(AblationViewTest, BarsAreTheFilesImportanceSortedWithTheAblatedHeadsMarked) {
  test::write_head_effects(path("e.h5"));
  AblationView& view = open(path("e.h5"));
  ASSERT_NE(view.shown(), nullptr) << view.message().toStdString();
  // importance first, then the rest of head_importance, then ablation's mask.
  const HeadEffects& effects = *view.shown();
  ASSERT_EQ(effects.quantities.size(), 5u);
  EXPECT_EQ(effects.quantities[0].quantity.label, "head_importance/importance");
  EXPECT_EQ(effects.quantities[4].quantity.label, "ablation/mask");
  EXPECT_EQ(effects.quantities[0].values, test::kImportance);

  // Every head once, largest importance first.
  const auto& order = view.order();
  ASSERT_EQ(order.size(), static_cast<size_t>(kLayers * kHeads));
  std::vector<double> shown;
  for (const auto& [l, h] : order) shown.push_back(test::kImportance[l * kHeads + h]);
  EXPECT_TRUE(std::is_sorted(shown.rbegin(), shown.rend()));
  EXPECT_EQ(shown.front(), 0.9);
  EXPECT_EQ(order.front(), std::make_pair(int64_t{0}, int64_t{1}));

  // Hover names the head, its value and its rank.
  BarChartCanvas& bars = *view.bars();
  EXPECT_EQ(bars.tooltip_at(bars.bar_centre(0)), "layer 0, head 1: 0.9 (rank 1)");
  EXPECT_EQ(bars.bar_at(bars.bar_centre(3)), 3);
  const QStringList csv = view.csv().split('\n', Qt::SkipEmptyParts);
  ASSERT_EQ(csv.size(), kLayers * kHeads + 1);
  EXPECT_EQ(csv[0], "rank,layer,head,head_importance/importance,ablated");
  EXPECT_EQ(csv[1], "1,0,1,0.90000000000000002,1");
  for (int i = 1; i < csv.size(); ++i) {
    const QStringList cells = csv[i].split(',');
    const int64_t l = cells[1].toLongLong(), h = cells[2].toLongLong();
    EXPECT_EQ(cells[3].toDouble(), test::kImportance[l * kHeads + h]);
    EXPECT_EQ(cells[4] == "1", test::ablated_head(l, h));
  }

  // The pruning curve as stored, with the threshold pruning stopped at.
  ASSERT_TRUE(view.curve()->isVisible());
  const LineChart& chart = view.curve()->chart();
  ASSERT_EQ(chart.series.size(), 1u);
  EXPECT_EQ(chart.series[0].y, test::kCurveMetric);
  ASSERT_EQ(chart.series[0].x.size(), test::kCurvePruned.size());
  for (size_t i = 0; i < test::kCurvePruned.size(); ++i) {
    EXPECT_EQ(chart.series[0].x[i], static_cast<double>(test::kCurvePruned[i]));
  }
  EXPECT_EQ(chart.y_label, "accuracy");
  ASSERT_EQ(chart.references.size(), 1u);
  EXPECT_EQ(chart.references[0].y, test::kThreshold * test::kUnpruned);
  const QPointF point = view.curve()->position(0, 2);
  EXPECT_EQ(view.curve()->tooltip_at(point.toPoint()), "accuracy: heads pruned 2, accuracy 0.88");

  // The ablation's scores before and after.
  ASSERT_TRUE(effects.ablation.has_value());
  EXPECT_EQ(effects.ablation->method, "zero");
  ASSERT_EQ(effects.ablation->scores.size(), 2u);
  EXPECT_EQ(effects.ablation->scores[0].name, "accuracy");
  EXPECT_EQ(effects.ablation->scores[0].baseline, test::kBaselineAccuracy);
  EXPECT_EQ(effects.ablation->scores[0].ablated, test::kAblatedAccuracy);
  EXPECT_EQ(effects.ablation->scores[1].name, "logit_diff");
  EXPECT_TRUE(view.summary().contains("0.95")) << view.summary().toStdString();
  EXPECT_TRUE(view.summary().contains("-3.75")) << view.summary().toStdString();

  // Another quantity re-sorts the bars.
  ASSERT_TRUE(view.choose_quantity("head_importance/importance_raw"));
  EXPECT_EQ(bars.tooltip_at(bars.bar_centre(0)), "layer 0, head 1: 1.8 (rank 1)");
  EXPECT_FALSE(view.choose_quantity("no/such"));
  EXPECT_GT(test::colours(view.grab().toImage()), 8u);
}

TEST_F(AblationViewTest, AClickOnABarSelectsItsHead) {
  test::write_head_effects(path("e.h5"));
  AblationView& view = open(path("e.h5"));
  ASSERT_NE(view.shown(), nullptr) << view.message().toStdString();
  BarChartCanvas& bars = *view.bars();
  const QPoint centre = bars.bar_centre(1);  // the second largest: layer 1, head 1
  QMouseEvent press(QEvent::MouseButtonPress, centre, bars.mapToGlobal(centre), Qt::LeftButton,
                    Qt::LeftButton, Qt::NoModifier);
  QCoreApplication::sendEvent(&bars, &press);
  EXPECT_EQ(window_->workspace().selection(), (HeadSelection{0, 0, 1, 1}));
}

TEST_F(AblationViewTest, ImportanceAloneHasNoAblationAndNoCurveWithoutOne) {
  test::write_head_effects(path("i.h5"), {true, false, false, true});
  AblationView& view = open(path("i.h5"));
  ASSERT_NE(view.shown(), nullptr) << view.message().toStdString();
  EXPECT_FALSE(view.shown()->curve.has_value());
  EXPECT_FALSE(view.shown()->ablation.has_value());
  EXPECT_FALSE(view.curve()->isVisible());
  EXPECT_EQ(view.shown()->quantities.size(), 4u);
}

TEST_F(AblationViewTest, MissingAnalysesOrDatasetsGiveAMessage) {
  test::write_recording(path("a.h5"), {test::RunContents{}});
  {
    AblationView& view = open(path("a.h5"));
    EXPECT_TRUE(view.message().contains("has no importance or ablation analysis"))
        << view.message().toStdString();
    EXPECT_EQ(view.shown(), nullptr);
    EXPECT_TRUE(view.csv().isEmpty());
  }
  test::write_head_effects(path("bad.h5"), {false, false, true, false});
  AblationView& view = open(path("bad.h5"));
  EXPECT_EQ(view.shown(), nullptr);
  EXPECT_TRUE(view.message().contains("/analyses/ablation/mask")) << view.message().toStdString();
  EXPECT_TRUE(view.message().contains("bad.h5")) << view.message().toStdString();
}

}  // namespace
}  // namespace headscope::gui
