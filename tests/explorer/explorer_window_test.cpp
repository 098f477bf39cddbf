// The explorer's window offscreen: open files, pick a quantity, click a head, and check that what
// the views show is what the file holds; bad files leave a message in the window.
#include <cmath>

#include <gtest/gtest.h>
#include <QtCore/QSortFilterProxyModel>
#include <QtTest/QTest>
#include <QtWidgets/QTableView>

#include "gui/app/main_window.h"
#include "gui/models/head_rank_model.h"
#include "gui/views/attention_canvas.h"
#include "gui/views/attention_view.h"
#include "gui/views/file_panel.h"
#include "gui/views/head_grid_canvas.h"
#include "gui/views/head_grid_view.h"
#include "tests/explorer/explorer_files.h"
#include "tests/explorer/window_wait.h"
#include "tests/support/temp_dir_test.h"

namespace headscope::gui {
namespace {

using test::colours;
using test::kHeads;
using test::kLayers;
using test::RunContents;
using test::wait_idle;
using test::write_newer_version_recording;
using test::write_recording;
using test::write_text_file;
using test::write_truncated_recording;

class ExplorerWindowTest : public test::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    window_ = std::make_unique<MainWindow>();
    window_->resize(1200, 800);
    window_->show();
  }
  void TearDown() override {
    window_.reset();
    TempDirTest::TearDown();
  }
  HeadGridView& grid() { return *static_cast<HeadGridView*>(window_->view("grid")); }
  AttentionView& attention() { return *static_cast<AttentionView*>(window_->view("attention")); }

  std::unique_ptr<MainWindow> window_;
};

TEST_F(ExplorerWindowTest, ClickedHeadShowsTheFilesValuesInEveryView) {
  write_recording(path("a.h5"), {RunContents{}});
  EXPECT_TRUE(window_->open_files({path("a.h5")}).empty());
  wait_idle(*window_);
  ASSERT_TRUE(grid().choose_quantity("mean sink mass"));
  wait_idle(*window_);
  const auto shown = grid().shown();
  ASSERT_NE(shown, nullptr);
  EXPECT_EQ(shown->quantity.label, "run 0: mean sink mass");

  HeadGridCanvas& canvas = *grid().canvas();
  const HeadCell cell{1, 2};
  double mean = 0;
  for (int64_t q = 0; q < 8; ++q) mean += test::statistic_value(1, 1, 2, q);
  mean /= 8;
  EXPECT_EQ(canvas.tooltip_at(canvas.cell_centre(cell)),
            QString("layer 1, head 2: %1").arg(QString::number(mean, 'g', 6)));
  QTest::mouseClick(&canvas, Qt::LeftButton, {}, canvas.cell_centre(cell));
  EXPECT_EQ(window_->workspace().selection(), (HeadSelection{0, 0, 1, 2}));
  wait_idle(*window_);

  // The attention view follows: head 2 of layer 1, the full map, as stored.
  window_->show_view("attention");
  AttentionCanvas& map_canvas = *attention().canvas();
  ASSERT_NE(map_canvas.map(), nullptr) << attention().message().toStdString();
  EXPECT_EQ(map_canvas.map()->kind, AttentionMap::Kind::kFull);
  const QPoint at = map_canvas.cell_centre(5, 3).toPoint();
  EXPECT_EQ(map_canvas.tooltip_at(at),
            QString("query 5 'tok5' -> key 3 'tok3': %1 prob")
                .arg(QString::number(test::pattern_value(1, 2, 5, 3), 'g', 4)));
  // Zoomed in around that cell, it stays under the pointer.
  map_canvas.zoom(2.0, at);
  EXPECT_EQ(map_canvas.visible().width(), 4.0);
  EXPECT_EQ(map_canvas.tooltip_at(map_canvas.cell_centre(5, 3).toPoint()),
            map_canvas.tooltip_at(at));
  EXPECT_GT(colours(map_canvas.grab().toImage()), 8u);
  EXPECT_GT(colours(canvas.grab().toImage()), 6u);
}

TEST_F(ExplorerWindowTest, RankTableSortsHeadsAndSelectsThem) {
  write_recording(path("a.h5"), {RunContents{}});
  window_->open_files({path("a.h5")});
  ASSERT_TRUE(grid().choose_quantity("retrieval_score"));
  wait_idle(*window_);
  QTableView& table = *grid().rank_table();
  ASSERT_EQ(table.model()->rowCount(), kLayers * kHeads);
  // Sorted by value, highest first: layer 1, head 0 scores 0.3125.
  const QModelIndex top = table.model()->index(0, HeadRankModel::kValue);
  EXPECT_EQ(top.data().toString(), "0.3125");
  EXPECT_EQ(table.model()->index(0, HeadRankModel::kLayer).data().toInt(), 1);
  EXPECT_EQ(table.model()->index(0, HeadRankModel::kHead).data().toInt(), 0);
  table.sortByColumn(HeadRankModel::kValue, Qt::AscendingOrder);
  EXPECT_EQ(table.model()->index(0, HeadRankModel::kValue).data().toString(), "-0.1875");
  const QModelIndex row = table.model()->index(0, HeadRankModel::kValue);
  emit table.clicked(row);
  EXPECT_EQ(window_->workspace().selection().layer, 0);
  EXPECT_EQ(window_->workspace().selection().head, 2);
}

TEST_F(ExplorerWindowTest, StatisticsOnlyRunShowsBlockMass) {
  write_recording(path("long.h5"), {RunContents{4096, false, true, 64}}, false);
  window_->open_files({path("long.h5")});
  wait_idle(*window_);
  window_->workspace().select({0, 0, 1, 1});
  wait_idle(*window_);
  const auto& map = attention().canvas()->map();
  ASSERT_NE(map, nullptr) << attention().message().toStdString();
  EXPECT_EQ(map->kind, AttentionMap::Kind::kBlocks);
  EXPECT_EQ(map->rows, 64);
  EXPECT_EQ(map->positions, 4096);
  EXPECT_TRUE(attention().message().contains("block mass, 4096 tokens in blocks of 64"));
  const QPoint at = attention().canvas()->cell_centre(10, 4).toPoint();
  EXPECT_TRUE(attention().canvas()->tooltip_at(at).startsWith("queries 640-703 -> keys 256-319"));
}

TEST_F(ExplorerWindowTest, BadFilesLeaveAMessageAndTheGoodOnesOpen) {
  write_text_file(path("text.h5"));
  write_truncated_recording(path("truncated.h5"));
  write_newer_version_recording(path("newer.h5"));
  write_recording(path("good.h5"), {RunContents{8, false, false}}, false);
  const std::vector<std::string> errors = window_->open_files(
      {path("text.h5"), path("truncated.h5"), path("newer.h5"), path("good.h5")});
  ASSERT_EQ(errors.size(), 3u);
  const std::string shown = window_->file_panel()->errors().toStdString();
  for (const char* name : {"text.h5", "truncated.h5", "newer.h5"}) {
    EXPECT_NE(shown.find(path(name)), std::string::npos) << shown;
  }
  EXPECT_NE(shown.find("format version 99"), std::string::npos) << shown;
  EXPECT_EQ(window_->workspace().files().size(), 1u);
  wait_idle(*window_);
  // The good file has neither statistics nor patterns: each view says what is missing.
  EXPECT_TRUE(grid().message().contains("has no per-head quantity"))
      << grid().message().toStdString();
  window_->workspace().select({0, 0, 0, 0});
  wait_idle(*window_);
  EXPECT_TRUE(attention().message().contains("no hook_pattern of layer 0"))
      << attention().message().toStdString();
  EXPECT_EQ(attention().canvas()->map(), nullptr);
}

}  // namespace
}  // namespace headscope::gui
