// The attention compare view: one head's map in two runs side by side and A - B, the values
// those of the files (full maps when both runs have short patterns, else block maps: a pattern
// summed in the other run's blocks), hover, the diverging colours, zoom that moves all three,
// the CSV, and runs that cannot be compared cell by cell saying why.
#include <gtest/gtest.h>

#include "gui/app/main_window.h"
#include "gui/views/attention_canvas.h"
#include "gui/views/attention_compare_view.h"
#include "tests/explorer/explorer_files.h"
#include "tests/explorer/window_wait.h"
#include "tests/support/temp_dir_test.h"

namespace headscope::gui {
namespace {

using test::kHeads;
using test::kLayers;
using test::RunContents;
using test::wait_idle;
using test::write_recording;

constexpr int64_t kLayer = 1, kHead = 2;

class AttentionCompareViewTest : public test::TempDirTest {
 protected:
  AttentionCompareView& open(const std::vector<std::string>& files) {
    window_ = std::make_unique<MainWindow>();
    window_->resize(1400, 700);
    window_->show();
    EXPECT_TRUE(window_->open_files(files).empty());
    window_->show_view("attention-compare");
    window_->workspace().select({0, 0, kLayer, kHead});
    wait_idle(*window_);
    return *static_cast<AttentionCompareView*>(window_->view("attention-compare"));
  }
  void TearDown() override {
    window_.reset();
    TempDirTest::TearDown();
  }
  std::unique_ptr<MainWindow> window_;
};

TEST_F(AttentionCompareViewTest, FullMapsOfTwoFilesAndTheirDifference) {
  write_recording(path("a.h5"), {RunContents{8, true, false}}, false);
  test::write_uniform_recording(path("b.h5"), 8);
  AttentionCompareView& view = open({path("a.h5"), path("b.h5")});
  EXPECT_EQ(view.choices(), QStringList({"a.h5: run 0", "b.h5: run 0"}));
  const auto shown = view.shown();
  ASSERT_NE(shown, nullptr) << view.message().toStdString();
  ASSERT_EQ(shown->a->kind, AttentionMap::Kind::kFull);
  ASSERT_EQ(shown->difference->rows, 8);
  ASSERT_EQ(shown->difference->cols, 8);
  for (int64_t q = 0; q < 8; ++q) {
    for (int64_t k = 0; k < 8; ++k) {
      const float a = test::pattern_value(kLayer, kHead, q, k), b = test::uniform_value(q, k);
      ASSERT_EQ(shown->a->at(q, k), a);
      ASSERT_EQ(shown->b->at(q, k), b);
      ASSERT_EQ(shown->difference->at(q, k), a - b) << q << " " << k;
    }
  }
  EXPECT_TRUE(view.message().contains("full maps of 8 tokens")) << view.message().toStdString();
  EXPECT_EQ(view.canvas_a()->map(), shown->a);
  EXPECT_EQ(view.canvas_difference()->map(), shown->difference);

  // Hover gives the difference; its colours diverge: red where A reads more, blue where less.
  AttentionCanvas& difference = *view.canvas_difference();
  const QPoint last = difference.cell_centre(7, 7).toPoint();
  const QPoint first = difference.cell_centre(7, 0).toPoint();
  const float d77 = shown->difference->at(7, 7);
  ASSERT_GT(d77, 0);
  ASSERT_LT(shown->difference->at(7, 0), 0);
  EXPECT_EQ(difference.tooltip_at(last),
            QString("query 7 'tok7' -> key 7 'tok7': %1 (A - B)").arg(d77, 0, 'g', 4));
  const QImage image = difference.grab().toImage();
  const QColor positive = image.pixelColor(last), negative = image.pixelColor(first);
  EXPECT_GT(positive.red(), positive.blue());
  EXPECT_GT(negative.blue(), negative.red());
  EXPECT_TRUE(view.canvas_a()->tooltip_at(last).endsWith(" prob"));

  // The CSV holds every visible cell; zooming one map moves the other two.
  const QStringList lines = view.csv().split('\n', Qt::SkipEmptyParts);
  ASSERT_EQ(lines.size(), 65);
  EXPECT_EQ(lines[0], "query,key,a,b,a_minus_b");
  EXPECT_EQ(lines[64],
            QString("7,7,%1,%2,%3")
                .arg(QString::number(shown->a->at(7, 7), 'g', 9),
                     QString::number(shown->b->at(7, 7), 'g', 9), QString::number(d77, 'g', 9)));
  view.canvas_a()->zoom(2, view.canvas_a()->cell_centre(2, 2));
  EXPECT_LT(view.canvas_a()->visible().width(), 8);
  EXPECT_EQ(view.canvas_b()->visible(), view.canvas_a()->visible());
  EXPECT_EQ(difference.visible(), view.canvas_a()->visible());
  EXPECT_LT(view.csv().split('\n', Qt::SkipEmptyParts).size(), 65);

  // Another head: its maps, read once the view is shown again (never while hidden).
  window_->show_view("attention");
  window_->workspace().select({0, 0, 0, 1});
  wait_idle(*window_);
  EXPECT_EQ(view.shown(), shown);
  window_->show_view("attention-compare");
  wait_idle(*window_);
  ASSERT_NE(view.shown(), nullptr);
  EXPECT_EQ(view.shown()->a->at(5, 3), test::pattern_value(0, 1, 5, 3));
  EXPECT_GT(test::colours(view.grab().toImage()), 16u);
}

TEST_F(AttentionCompareViewTest, AFullMapAgainstBlockMassComparesBlocks) {
  // Run 0 has the pattern only, run 1 statistics only (blocks of 4).
  write_recording(path("x.h5"), {RunContents{8, true, false}, RunContents{8, false, true, 4}},
                  false);
  AttentionCompareView& view = open({path("x.h5")});
  const auto shown = view.shown();
  ASSERT_NE(shown, nullptr) << view.message().toStdString();
  ASSERT_EQ(shown->a->kind, AttentionMap::Kind::kBlocks);
  EXPECT_EQ(shown->a->dataset, "blocks.1.attn.hook_pattern");
  EXPECT_EQ(shown->a->block_size, 4);
  ASSERT_EQ(shown->a->rows, 2);
  ASSERT_EQ(shown->a->cols, 2);
  for (int64_t qb = 0; qb < 2; ++qb) {
    for (int64_t kb = 0; kb < 2; ++kb) {
      double sum = 0;
      for (int64_t q = qb * 4; q < qb * 4 + 4; ++q) {
        for (int64_t k = kb * 4; k < kb * 4 + 4; ++k)
          sum += test::pattern_value(kLayer, kHead, q, k);
      }
      const float mass =
          kb <= qb ? static_cast<float>(kb + 1) / static_cast<float>((qb + 1) * (qb + 2) / 2) : 0;
      EXPECT_FLOAT_EQ(shown->a->at(qb, kb), static_cast<float>(sum));
      EXPECT_EQ(shown->b->at(qb, kb), mass);
      EXPECT_EQ(shown->difference->at(qb, kb), shown->a->at(qb, kb) - mass);
    }
  }
  EXPECT_TRUE(view.message().contains("block maps, blocks of 4")) << view.message().toStdString();
  EXPECT_TRUE(view.canvas_difference()
                  ->tooltip_at(view.canvas_difference()->cell_centre(1, 0).toPoint())
                  .startsWith("queries 4-7 -> keys 0-3: "));
}

TEST_F(AttentionCompareViewTest, RunsThatCannotBeComparedSayWhy) {
  write_recording(path("y.h5"),
                  {RunContents{8, false, true, 4}, RunContents{16, false, true, 4},
                   RunContents{8, false, false}},
                  false);
  AttentionCompareView& view = open({path("y.h5")});
  EXPECT_EQ(view.shown(), nullptr);
  EXPECT_TRUE(view.message().contains("cannot compare y.h5 run 0")) << view.message().toStdString();
  EXPECT_TRUE(view.message().contains("y.h5 run 1")) << view.message().toStdString();
  EXPECT_EQ(view.canvas_a()->map(), nullptr);
  EXPECT_TRUE(view.csv().isEmpty());
  ASSERT_TRUE(view.choose("y.h5: run 0", "y.h5: run 2"));
  wait_idle(*window_);
  EXPECT_TRUE(view.message().contains("run 2 has no hook_pattern of layer 1"))
      << view.message().toStdString();
  EXPECT_FALSE(view.choose("y.h5: run 0", "y.h5: run 9"));
}

}  // namespace
}  // namespace headscope::gui
