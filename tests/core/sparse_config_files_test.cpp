// DuoAttention's files as plain data: a headscope config whose KV heads are whole full or
// streaming groups becomes gates, sink and window; written and read back it is the same config;
// what DuoAttention cannot say is refused naming the head.
#include <filesystem>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/base/error.h"
#include "core/base/text_file.h"
#include "core/checkpoint/sparse_config_files.h"
#include "tests/support/error_message.h"
#include "tests/support/temp_dir_test.h"

namespace headscope {
namespace {

using ::testing::HasSubstr;

class DuoConfigFiles : public test::TempDirTest {
 protected:
  // 2 layers x 4 query heads in 2 KV heads: layer 0's second KV head and layer 1's first stream.
  static SparseModelConfig grouped() {
    SparseModelConfig config = SparseModelConfig::dense(2, 4);
    for (auto [l, h] : {std::pair{0, 2}, {0, 3}, {1, 0}, {1, 1}}) {
      config.heads[l][h] = SparseHeadConfig::streaming(4, 32);
    }
    return config;
  }
  static ModelConfig model() {
    ModelConfig m;
    m.n_layers = 2, m.n_heads = 4, m.n_kv_heads = 2;
    return m;
  }
};

TEST_F(DuoConfigFiles, GroupedConfigBecomesGatesAndReadsBackTheSame) {
  const DuoConfig duo = duo_config_of(grouped(), 2, "cfg");
  EXPECT_EQ(duo.gates, (std::vector<std::vector<double>>{{1.0, 0.0}, {0.0, 1.0}}));
  EXPECT_EQ(duo.sink_size, 4);
  EXPECT_EQ(duo.recent_size, 32);
  EXPECT_EQ(duo.sparsity, 0.5);

  const std::string dir = path("duo");
  std::filesystem::create_directories(dir);
  const std::vector<std::string> files = write_duo_config(dir, duo);
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(read_text_file(files[0]),
            "1.000000000000000000e+00\t0.000000000000000000e+00\n"
            "0.000000000000000000e+00\t1.000000000000000000e+00\n");
  const SparseModelConfig back = read_duo_config(dir, model());
  const SparseModelConfig want = grouped();
  for (int64_t l = 0; l < 2; ++l) {
    for (int64_t h = 0; h < 4; ++h) {
      const SparseHeadConfig& a = back.heads[l][h];
      const SparseHeadConfig& b = want.heads[l][h];
      EXPECT_EQ(a.kind, b.kind) << l << "." << h;
      EXPECT_EQ(a.sink, b.sink) << l << "." << h;
      EXPECT_EQ(a.window, b.window) << l << "." << h;
    }
  }
}

TEST_F(DuoConfigFiles, WhatDuoAttentionCannotSayIsRefusedNamingTheHead) {
  SparseModelConfig block = grouped();
  block.heads[1][3] = SparseHeadConfig::block_sparse(16, 2);
  EXPECT_THAT(test::error_message<InvalidInput>([&] { duo_config_of(block, 2, "cfg"); }),
              HasSubstr("cfg: layer 1 head 3 is block-sparse"));
  SparseModelConfig mixed = grouped();
  mixed.heads[0][1] = SparseHeadConfig::streaming(4, 32);
  EXPECT_THAT(test::error_message<InvalidInput>([&] { duo_config_of(mixed, 2, "cfg"); }),
              HasSubstr("cfg: layer 0 head 1 differs from the other query heads of KV head 0"));
  SparseModelConfig windows = grouped();
  windows.heads[1][1] = SparseHeadConfig::streaming(4, 64);
  EXPECT_THAT(test::error_message<InvalidInput>([&] { duo_config_of(windows, 2, "cfg"); }),
              HasSubstr("cfg: layer 1 head 1 streams with sink 4, window 64"));
  EXPECT_THAT(test::error_message<InvalidInput>(
                  [&] { duo_config_of(SparseModelConfig::dense(2, 4), 2, "cfg"); }),
              HasSubstr("cfg: every head is full"));
  EXPECT_THAT(test::error_message<InvalidInput>([&] { duo_config_of(grouped(), 3, "cfg"); }),
              HasSubstr("4 query heads do not form groups of 3 KV heads"));
}

}  // namespace
}  // namespace headscope
