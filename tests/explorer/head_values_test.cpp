// Per-head quantities found in a file and read back as stored, the attention map's choice
// between the full pattern and block_mass, and the worker-thread requests dropping stale
// results.
#include <algorithm>
#include <chrono>
#include <limits>
#include <thread>

#include <gtest/gtest.h>
#include <QtCore/QCoreApplication>
#include <QtCore/QElapsedTimer>

#include "core/base/error.h"
#include "gui/models/attention_map.h"
#include "gui/models/head_values.h"
#include "gui/models/latest_request.h"
#include "tests/explorer/explorer_files.h"
#include "tests/support/temp_dir_test.h"

namespace headscope::gui {
namespace {

using test::kHeads;
using test::kLayers;
using test::RunContents;
using test::write_newer_version_recording;
using test::write_recording;
using test::write_text_file;
using test::write_truncated_recording;

class HeadValuesTest : public test::TempDirTest {};

std::vector<std::string> labels(const std::vector<HeadQuantity>& quantities) {
  std::vector<std::string> out;
  for (const HeadQuantity& q : quantities) out.push_back(q.label);
  return out;
}

TEST_F(HeadValuesTest, FindsAnalysesAndEveryRunsStatistics) {
  write_recording(path("a.h5"), {RunContents{}, RunContents{5, true, false}});
  const auto file = OpenFile::open(path("a.h5"));
  EXPECT_EQ(labels(find_head_quantities(*file)),
            (std::vector<std::string>{"retrieval_heads/retrieval_score", "run 0: mean entropy",
                                      "run 0: mean sink mass", "run 0: mean local mass",
                                      "run 0: mean max prob"}));
}

TEST_F(HeadValuesTest, ReadsAnAnalysisAsStoredAndStatisticsAsTheirMeanOverQueries) {
  const int64_t t = 300;  // past the 97-query period of the statistics
  write_recording(path("a.h5"), {RunContents{t, false, true}});
  const auto file = OpenFile::open(path("a.h5"));
  const std::vector<HeadQuantity> found = find_head_quantities(*file);
  const HeadValues analysis = read_head_values(*file, found[0]);
  ASSERT_EQ(analysis.layers, kLayers);
  ASSERT_EQ(analysis.heads, kHeads);
  const HeadValues local_mass = read_head_values(*file, found[3]);
  ASSERT_EQ(found[3].label, "run 0: mean local mass");
  for (int64_t l = 0; l < kLayers; ++l) {
    for (int64_t h = 0; h < kHeads; ++h) {
      EXPECT_EQ(analysis.at(l, h), test::analysis_score(l, h));  // float64 stored exactly
      // The float32 values summed in double in query order, as the reader does: equal.
      double sum = 0;
      for (int64_t q = 0; q < t; ++q) sum += test::statistic_value(2, l, h, q);
      EXPECT_EQ(local_mass.at(l, h), sum / static_cast<double>(t));
    }
  }
}

TEST_F(HeadValuesTest, AttentionMapIsTheFullPatternForShortRunsElseBlockMass) {
  write_recording(path("a.h5"), {RunContents{}, RunContents{64, false, true, 8}});
  const auto file = OpenFile::open(path("a.h5"));
  const AttentionMap full = read_attention_map(*file, {0, 1, 2});
  EXPECT_EQ(full.kind, AttentionMap::Kind::kFull);
  ASSERT_EQ(full.rows, 8);
  ASSERT_EQ(full.cols, 8);
  for (int64_t q = 0; q < 8; ++q) {
    for (int64_t k = 0; k < 8; ++k) EXPECT_EQ(full.at(q, k), test::pattern_value(1, 2, q, k));
  }
  EXPECT_EQ(full.token_text[3], "tok3");
  // The same run above the full-map limit: block_mass.
  const AttentionMap limited = read_attention_map(*file, {0, 1, 2, 4});
  EXPECT_EQ(limited.kind, AttentionMap::Kind::kBlocks);
  EXPECT_EQ(limited.rows, 2);
  const AttentionMap blocks = read_attention_map(*file, {1, 0, 1});
  EXPECT_EQ(blocks.kind, AttentionMap::Kind::kBlocks);
  EXPECT_EQ(blocks.block_size, 8);
  EXPECT_EQ(blocks.positions, 64);
  ASSERT_EQ(blocks.rows, 8);
  EXPECT_FLOAT_EQ(blocks.at(3, 1), 2.0f / 10.0f);
}

TEST_F(HeadValuesTest, AttentionMapSumsALongPatternInBlocksWithoutStatistics) {
  write_recording(path("p.h5"), {RunContents{64, true, false}}, false);
  const auto file = OpenFile::open(path("p.h5"));
  // Longer than the full-map limit and no block_mass: sums of the pattern in blocks of 8.
  const AttentionMap map = read_attention_map(*file, {0, 1, 2, 16, 8});
  EXPECT_EQ(map.kind, AttentionMap::Kind::kBlocks);
  EXPECT_EQ(map.dataset, "blocks.1.attn.hook_pattern");
  EXPECT_EQ(map.block_size, 8);
  EXPECT_EQ(map.positions, 64);
  ASSERT_EQ(map.rows, 8);
  ASSERT_EQ(map.cols, 8);
  for (int64_t qb = 0; qb < 8; ++qb) {
    double row_total = 0;
    for (int64_t kb = 0; kb < 8; ++kb) {
      double sum = 0;
      for (int64_t q = qb * 8; q < qb * 8 + 8; ++q) {
        for (int64_t k = kb * 8; k < kb * 8 + 8; ++k) sum += test::pattern_value(1, 2, q, k);
      }
      // Summed in double and rounded once to float.
      EXPECT_FLOAT_EQ(map.at(qb, kb), static_cast<float>(sum)) << qb << " " << kb;
      row_total += map.at(qb, kb);
    }
    // Every query's row sums to 1, so a block row holds its 8 queries' mass; 64 float32
    // roundings of terms up to 1 each.
    EXPECT_NEAR(row_total, 8.0, 64 * 8.0 * std::numeric_limits<float>::epsilon());
  }
  EXPECT_EQ(map.token_text[63], "tok63");
  // At most max_blocks a side: blocks grow to 64 / 4 = 16 positions.
  AttentionRequest coarse{0, 1, 2, 16, 8};
  coarse.max_blocks = 4;
  const AttentionMap big = read_attention_map(*file, coarse);
  EXPECT_EQ(big.block_size, 16);
  EXPECT_EQ(big.rows, 4);
  EXPECT_FLOAT_EQ(big.at(1, 0), map.at(2, 0) + map.at(2, 1) + map.at(3, 0) + map.at(3, 1));
}

TEST_F(HeadValuesTest, PatternBlockSumsSpanSeveralChunkTiles) {
  // 600 tokens: two tiles of whole 64-blocks along each axis (512 and 88 positions), the last
  // block 24 positions.
  constexpr int64_t t = 600;
  test::write_uniform_recording(path("u.h5"), t);
  const auto file = OpenFile::open(path("u.h5"));
  const AttentionMap map = read_attention_map(*file, {0, 0, 1, 100, 64});
  ASSERT_EQ(map.rows, 10);
  ASSERT_EQ(map.cols, 10);
  for (int64_t qb = 0; qb < 10; ++qb) {
    for (int64_t kb = 0; kb < 10; ++kb) {
      double sum = 0;
      for (int64_t q = qb * 64; q < std::min(t, qb * 64 + 64); ++q) {
        for (int64_t k = kb * 64; k < std::min(t, kb * 64 + 64); ++k) {
          sum += test::uniform_value(q, k);
        }
      }
      EXPECT_FLOAT_EQ(map.at(qb, kb), static_cast<float>(sum)) << qb << " " << kb;
    }
  }
}

TEST_F(HeadValuesTest, MissingDatasetsAreNamedInTheMessage) {
  write_recording(path("a.h5"), {RunContents{8, false, false}}, false);
  const auto file = OpenFile::open(path("a.h5"));
  EXPECT_TRUE(find_head_quantities(*file).empty());
  try {
    read_attention_map(*file, {0, 1, 0});
    FAIL() << "expected InvalidInput";
  } catch (const InvalidInput& e) {
    EXPECT_NE(std::string(e.what()).find("no hook_pattern of layer 1"), std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("attention_stats/block_mass/layer_01"), std::string::npos)
        << e.what();
  }
}

TEST(LatestRequest, OnlyTheLatestResultArrives) {
  QObject owner;
  LatestRequest<int> request(&owner);
  std::vector<int> arrived;
  const auto done = [&](const LatestRequest<int>::Outcome& o) { arrived.push_back(*o.value); };
  request.start([] { return std::this_thread::sleep_for(std::chrono::milliseconds(200)), 1; },
                done);
  request.start([] { return 2; }, done);
  request.start([]() -> int { throw InvalidInput("bad"); },
                [&](const LatestRequest<int>::Outcome& o) {
                  EXPECT_EQ(o.value, nullptr);
                  EXPECT_EQ(o.error, "bad");
                  arrived.push_back(-1);
                });
  QElapsedTimer timer;
  timer.start();
  while (request.busy() && timer.elapsed() < 10000) QCoreApplication::processEvents();
  EXPECT_FALSE(request.busy());
  EXPECT_EQ(arrived, std::vector<int>{-1});
}

TEST(LatestRequest, CancelDropsTheResultsStartedBefore) {
  QObject owner;
  LatestRequest<int> request(&owner);
  std::vector<int> arrived;
  const auto done = [&](const LatestRequest<int>::Outcome& o) { arrived.push_back(*o.value); };
  request.start([] { return std::this_thread::sleep_for(std::chrono::milliseconds(100)), 1; },
                done);
  request.cancel();
  QElapsedTimer timer;
  timer.start();
  while (request.busy() && timer.elapsed() < 10000) QCoreApplication::processEvents();
  EXPECT_FALSE(request.busy());
  EXPECT_TRUE(arrived.empty());
  request.start([] { return 2; }, done);
  while (request.busy() && timer.elapsed() < 10000) QCoreApplication::processEvents();
  EXPECT_EQ(arrived, std::vector<int>{2});
}

}  // namespace
}  // namespace headscope::gui
