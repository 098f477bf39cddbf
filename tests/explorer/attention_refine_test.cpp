// The attention view zoomed into a long run: the block map refines to the exact rows of
// hook_pattern where the run has them and to the top-k lists where it has statistics only; the
// slices of a picked query and key list the file's values; jumping to a token by position or
// text shows it.
#include <algorithm>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <QtTest/QAbstractItemModelTester>

#include "gui/app/main_window.h"
#include "gui/models/slice_model.h"
#include "gui/views/attention_canvas.h"
#include "gui/views/attention_view.h"
#include "tests/explorer/explorer_files.h"
#include "tests/explorer/window_wait.h"
#include "tests/support/temp_dir_test.h"

namespace headscope::gui {
namespace {

using test::RunContents;
using test::wait_idle;
using test::write_recording;

class AttentionRefineTest : public test::TempDirTest {
 protected:
  void open(const RunContents& contents, const AttentionViewLimits& limits) {
    write_recording(path("a.h5"), {contents}, false);
    window_ = std::make_unique<MainWindow>();
    window_->resize(1200, 800);
    window_->show();
    view().set_limits(limits);
    ASSERT_TRUE(window_->open_files({path("a.h5")}).empty());
    wait_idle(*window_);
    window_->show_view("attention");
    window_->workspace().select({0, 0, kLayer, kHead});
    wait_idle(*window_);
    ASSERT_NE(canvas().map(), nullptr) << view().message().toStdString();
    ASSERT_EQ(canvas().map()->kind, AttentionMap::Kind::kBlocks);
  }
  void TearDown() override {
    window_.reset();
    TempDirTest::TearDown();
  }
  AttentionView& view() { return *static_cast<AttentionView*>(window_->view("attention")); }
  AttentionCanvas& canvas() { return *view().canvas(); }

  static constexpr int64_t kLayer = 1, kHead = 2;
  std::unique_ptr<MainWindow> window_;
};

TEST_F(AttentionRefineTest, ZoomedBlockShowsHookPatternsExactRows) {
  // 64 tokens in blocks of 8, with patterns; limits small enough that the run is "long".
  open(RunContents{64, true, true, 8}, {16, 32});
  EXPECT_EQ(canvas().detail(), nullptr);
  EXPECT_TRUE(view().detail_message().contains("Zoom in")) << view().detail_message().toStdString();
  canvas().show_positions({24, 40, 8, 24});
  wait_idle(*window_);
  const auto& detail = canvas().detail();
  ASSERT_NE(detail, nullptr) << view().detail_message().toStdString();
  EXPECT_EQ(detail->kind, AttentionDetail::Kind::kExact);
  EXPECT_TRUE(detail->box.contains(canvas().visible_positions()));
  EXPECT_LE(detail->box.queries(), 32);
  for (int64_t q = detail->box.query_begin; q < detail->box.query_end; ++q) {
    for (int64_t k = detail->box.key_begin; k < detail->box.key_end; ++k) {
      // Written as float32 and read back unchanged.
      ASSERT_EQ(detail->value(q, k), test::pattern_value(kLayer, kHead, q, k)) << q << " " << k;
    }
  }
  const auto at = canvas().cell_centre(30 / 8, 12 / 8).toPoint();
  const auto position = canvas().position_at(at);
  ASSERT_TRUE(position.has_value());
  EXPECT_EQ(
      canvas().tooltip_at(at),
      QString("query %1 'tok%1' -> key %2 'tok%2': %3 prob")
          .arg(position->first)
          .arg(position->second)
          .arg(QString::number(
              test::pattern_value(kLayer, kHead, position->first, position->second), 'g', 4)));
  // The exact values are in the exported slice too: one line per visible query.
  const QStringList lines = view().csv().split('\n', Qt::SkipEmptyParts);
  EXPECT_EQ(lines.size(), canvas().visible_positions().queries() + 1);
  EXPECT_TRUE(lines[0].startsWith("query\\key,"));

  // A picked query lists its strongest keys, a key the queries that read it most.
  QAbstractItemModelTester row_tester(view().row_slice(),
                                      QAbstractItemModelTester::FailureReportingMode::Fatal);
  view().pick(30, 5);
  wait_idle(*window_);
  const std::vector<SliceEntry>& row = view().row_slice()->entries();
  ASSERT_FALSE(row.empty());
  EXPECT_EQ(row[0].position, 30);  // the pattern grows with the key: the last key is strongest
  EXPECT_EQ(row[0].value, test::pattern_value(kLayer, kHead, 30, 30));
  EXPECT_EQ(view().row_slice()->index(0, SliceModel::kToken).data().toString(), "tok30");
  EXPECT_GE(row[0].value, row.back().value);
  const std::vector<SliceEntry>& column = view().column_slice()->entries();
  ASSERT_FALSE(column.empty());
  int64_t best = 5;
  for (int64_t q = 5; q < 64; ++q) {
    if (test::pattern_value(kLayer, kHead, q, 5) > test::pattern_value(kLayer, kHead, best, 5)) {
      best = q;
    }
  }
  EXPECT_EQ(column[0].position, best);
  EXPECT_EQ(column[0].value, test::pattern_value(kLayer, kHead, best, 5));
}

TEST_F(AttentionRefineTest, PatternOnlyLongRunShowsBlockSumsThenExactRows) {
  // 64 tokens with patterns and no statistics; "long" under these limits, blocks of 8.
  open(RunContents{64, true, false}, {16, 32, 8});
  const AttentionMap& map = *canvas().map();
  EXPECT_EQ(map.dataset, "blocks.1.attn.hook_pattern");
  EXPECT_EQ(map.block_size, 8);
  double sum = 0;
  for (int64_t q = 24; q < 32; ++q) {
    for (int64_t k = 8; k < 16; ++k) sum += test::pattern_value(kLayer, kHead, q, k);
  }
  EXPECT_FLOAT_EQ(map.at(3, 1), static_cast<float>(sum));
  EXPECT_TRUE(view().message().contains("block mass, 64 tokens in blocks of 8"))
      << view().message().toStdString();
  canvas().show_positions({24, 40, 8, 24});
  wait_idle(*window_);
  const auto& detail = canvas().detail();
  ASSERT_NE(detail, nullptr) << view().detail_message().toStdString();
  EXPECT_EQ(detail->kind, AttentionDetail::Kind::kExact);
  EXPECT_EQ(detail->value(30, 12), test::pattern_value(kLayer, kHead, 30, 12));
}

TEST_F(AttentionRefineTest, StatisticsOnlyLongRunShowsTopKListsAndJumps) {
  open(RunContents{4096, false, true, 64}, {});
  canvas().show_positions({1000, 1256, 1000, 1256});
  wait_idle(*window_);
  const auto& detail = canvas().detail();
  ASSERT_NE(detail, nullptr) << view().detail_message().toStdString();
  EXPECT_EQ(detail->kind, AttentionDetail::Kind::kTopK);
  EXPECT_EQ(detail->k, test::kTopK);
  EXPECT_TRUE(view().detail_message().contains("Top-2 keys"))
      << view().detail_message().toStdString();
  for (int64_t q = detail->box.query_begin; q < detail->box.query_end; ++q) {
    EXPECT_EQ(detail->value(q, q), test::topk_value(kLayer, kHead, q, 0));
    EXPECT_EQ(detail->value(q, q - 1), test::topk_value(kLayer, kHead, q, 1));
    EXPECT_TRUE(std::isnan(detail->value(q, q - 2)));
  }
  const QStringList lines = view().csv().split('\n', Qt::SkipEmptyParts);
  EXPECT_EQ(lines[0], "query,query_token,key,key_token,prob");

  // Jump by position: the token's neighbourhood is shown, its row's top-k listed.
  view().jump_to(3000);
  wait_idle(*window_);
  PositionBox visible = canvas().visible_positions();
  EXPECT_TRUE(visible.query_begin <= 3000 && 3000 < visible.query_end);
  EXPECT_LE(visible.queries(), 128);
  const std::vector<SliceEntry>& row = view().row_slice()->entries();
  ASSERT_EQ(row.size(), 2u);
  EXPECT_EQ(row[0].position, 3000);
  EXPECT_EQ(row[0].value, test::topk_value(kLayer, kHead, 3000, 0));
  EXPECT_EQ(row[1].position, 2999);
  // Key 3000 is in the lists of queries 3000 and 3001.
  const std::vector<SliceEntry>& column = view().column_slice()->entries();
  ASSERT_EQ(column.size(), 2u);
  EXPECT_EQ(column[0].position, 3000);
  EXPECT_EQ(column[1].position, 3001);
  EXPECT_EQ(column[1].value, test::topk_value(kLayer, kHead, 3001, 1));

  // Jump by text: the next token after the picked one whose text contains it.
  ASSERT_TRUE(view().find_token("TOK4001"));
  wait_idle(*window_);
  visible = canvas().visible_positions();
  EXPECT_TRUE(visible.query_begin <= 4001 && 4001 < visible.query_end);
  EXPECT_EQ(view().row_slice()->entries().at(0).position, 4001);
  EXPECT_FALSE(view().find_token("no such token"));
}

}  // namespace
}  // namespace headscope::gui
