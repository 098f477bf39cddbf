// The sparsity SNR view: the grid of block sizes reaching a target recall as the file's recall
// gives it, for every target, k and choice; the selected head's SNR and recall curves equal the
// file's; a click on the grid selects a head; missing or misshapen datasets give a message.
#include <cmath>

#include <gtest/gtest.h>
#include <QtCore/QCoreApplication>
#include <QtGui/QMouseEvent>

#include "gui/app/main_window.h"
#include "gui/models/snr_curves.h"
#include "gui/views/head_grid_canvas.h"
#include "gui/views/line_chart_canvas.h"
#include "gui/views/snr_view.h"
#include "tests/explorer/analysis_files.h"
#include "tests/explorer/window_test.h"
#include "tests/explorer/window_wait.h"

namespace headscope::gui {
namespace {

using test::kHeads;
using test::kLayers;
using test::kSnrBlockSizes;

// What the grid must show: computed from the values written, by the rule's definition.
double expected_block(int64_t l, int64_t h, int64_t k, double target, bool largest) {
  double best = std::nan("");
  for (int64_t b = 0; b < static_cast<int64_t>(kSnrBlockSizes.size()); ++b) {
    if (!(test::snr_recall(l, h, b, k) >= target)) continue;
    const auto size = static_cast<double>(kSnrBlockSizes[static_cast<size_t>(b)]);
    if (std::isnan(best) || (largest ? size > best : size < best)) best = size;
  }
  return best;
}

void expect_grid(const SnrView& view, int64_t k, double target, bool largest) {
  ASSERT_NE(view.grid_values(), nullptr);
  const HeadValues& grid = *view.grid_values();
  ASSERT_EQ(grid.layers, kLayers);
  ASSERT_EQ(grid.heads, kHeads);
  for (int64_t l = 0; l < kLayers; ++l) {
    for (int64_t h = 0; h < kHeads; ++h) {
      const double want = expected_block(l, h, k, target, largest);
      if (std::isnan(want)) {
        EXPECT_TRUE(std::isnan(grid.at(l, h))) << l << "." << h;
      } else {
        EXPECT_EQ(grid.at(l, h), want) << l << "." << h << " target " << target;
      }
    }
  }
}

class SnrViewTest : public test::WindowTest {
 protected:
  SnrView& open(const std::string& file) {
    return open_view<SnrView>({file}, "snr", HeadSelection{0, 0, 1, 1});
  }
};

TEST_F(SnrViewTest, GridAndCurvesAreTheFilesRecallAndSnr) {
  test::write_sparsity_snr(path("s.h5"));
  SnrView& view = open(path("s.h5"));
  ASSERT_NE(view.shown(), nullptr) << view.message().toStdString();
  EXPECT_EQ(view.shown()->topk, (std::vector<double>{1, 2}));
  EXPECT_EQ(view.shown()->block_sizes, (std::vector<double>{16, 32, 64}));

  // The default: largest block size reaching recall@1 >= 0.9; then every control.
  expect_grid(view, 0, 0.9, true);
  view.set_target(0.75);
  expect_grid(view, 0, 0.75, true);
  view.choose_block(BlockChoice::kSmallest);
  expect_grid(view, 0, 0.75, false);
  ASSERT_TRUE(view.choose_k(1));
  expect_grid(view, 1, 0.75, false);
  EXPECT_FALSE(view.choose_k(2));
  // A target of 1: only perfect recall counts (blank cells elsewhere).
  view.set_target(1.0);
  view.choose_block(BlockChoice::kLargest);
  expect_grid(view, 1, 1.0, true);

  // The selected head (1.1): SNR and recall@2 over the block sizes, as written.
  const LineChart& snr = view.snr_chart()->chart();
  ASSERT_EQ(snr.series.size(), 2u);
  const LineChart& recall = view.recall_chart()->chart();
  ASSERT_EQ(recall.series.size(), 2u);
  for (int64_t b = 0; b < 3; ++b) {
    const auto i = static_cast<size_t>(b);
    EXPECT_EQ(snr.series[0].y[i], test::snr_measured(1, 1, b));
    EXPECT_EQ(snr.series[1].y[i], test::snr_theory(1, 1, b));
    EXPECT_EQ(recall.series[0].y[i], test::snr_recall(1, 1, b, 1));
    EXPECT_EQ(recall.series[1].y[i], test::snr_predicted_recall(1, 1, b, 1));
  }
  EXPECT_TRUE(snr.log_x);
  EXPECT_EQ(recall.y_label, "recall@2");
  ASSERT_EQ(recall.references.size(), 1u);
  EXPECT_EQ(recall.references[0].y, 1.0);
  const QPointF point = view.recall_chart()->position(0, 1);
  EXPECT_EQ(view.recall_chart()->tooltip_at(point.toPoint()),
            "measured: block size 32, recall@2 " + QString::number(test::snr_recall(1, 1, 1, 1)));

  const QStringList csv = view.csv().split('\n', Qt::SkipEmptyParts);
  ASSERT_EQ(csv.size(), 4);
  EXPECT_EQ(csv[0], "layer,head,block_size,snr_theory,snr_measured,recall@2,predicted_recall@2");
  EXPECT_EQ(csv[2], QStringLiteral("1,1,32,%1,%2,%3,%4")
                        .arg(QString::number(test::snr_theory(1, 1, 1), 'g', 17),
                             QString::number(test::snr_measured(1, 1, 1), 'g', 17),
                             QString::number(test::snr_recall(1, 1, 1, 1), 'g', 17),
                             QString::number(test::snr_predicted_recall(1, 1, 1, 1), 'g', 17)));

  // A click on a grid cell selects that head, and the curves follow.
  HeadGridCanvas& grid = *view.grid();
  const QPoint centre = grid.cell_centre({0, 2});
  QMouseEvent press(QEvent::MouseButtonPress, centre, grid.mapToGlobal(centre), Qt::LeftButton,
                    Qt::LeftButton, Qt::NoModifier);
  QCoreApplication::sendEvent(&grid, &press);
  EXPECT_EQ(window_->workspace().selection(), (HeadSelection{0, 0, 0, 2}));
  EXPECT_EQ(view.snr_chart()->chart().series[1].y[0], test::snr_theory(0, 2, 0));
  EXPECT_GT(test::colours(view.grab().toImage()), 8u);
}

TEST_F(SnrViewTest, MissingOrMisshapenDatasetsGiveAMessage) {
  test::write_recording(path("a.h5"), {test::RunContents{}});
  {
    SnrView& view = open(path("a.h5"));
    EXPECT_TRUE(view.message().contains("has no sparsity SNR analysis"))
        << view.message().toStdString();
    EXPECT_TRUE(view.csv().isEmpty());
  }
  test::write_sparsity_snr(path("no_predicted.h5"), {false, 2});
  {
    SnrView& view = open(path("no_predicted.h5"));
    EXPECT_EQ(view.shown(), nullptr);
    EXPECT_TRUE(view.message().contains("/analyses/sparsity_snr/predicted_recall"))
        << view.message().toStdString();
  }
  test::write_sparsity_snr(path("bad_shape.h5"), {true, 3});
  SnrView& view = open(path("bad_shape.h5"));
  EXPECT_EQ(view.shown(), nullptr);
  EXPECT_TRUE(view.message().contains("/analyses/sparsity_snr/recall: expected [2, 3, 3, 2]"))
      << view.message().toStdString();
  EXPECT_TRUE(view.csv().isEmpty());
}

}  // namespace
}  // namespace headscope::gui
