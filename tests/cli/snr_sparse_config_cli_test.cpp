// `sparse-config --from-snr` end to end on the shipped model: snr, the config it feeds, that
// config run by sparse-eval, and one-line errors for bad input that write nothing.
#include <filesystem>
#include <fstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/cli_run.h"
#include "tests/support/temp_dir_test.h"
#include "tests/support/tolerance.h"

namespace headscope {
namespace {

using ::testing::HasSubstr;

std::string zoo_model() {
  return std::string(HEADSCOPE_SOURCE_DIR) + "/zoo/models/needle-4x8";
}

class SnrSparseConfigCli : public test::TempDirTest {};

TEST_F(SnrSparseConfigCli, SnrChoosesPerHeadBlocksThatSparseEvalRuns) {
  const std::string snr = path("snr.h5");
  const auto measured = test::run_cli("snr " + zoo_model() +
                                      " --task niah --n 2 --length 256 --block-sizes 16,64 "
                                      "--topk-blocks 1,2 --quiet --out " +
                                      snr);
  ASSERT_EQ(measured.status, 0) << measured.output;

  const auto written = test::run_cli("sparse-config --from-snr " + snr +
                                     " --recall 0.9 --budget 0.6 --out " + path("cfg"));
  ASSERT_EQ(written.status, 0) << written.output;
  EXPECT_THAT(written.output, HasSubstr("from sparsity SNR"));
  std::ifstream in(path("cfg/sparse_config.json"));
  const nlohmann::json config = nlohmann::json::parse(in);
  EXPECT_EQ(config["format"], "headscope-sparse");
  ASSERT_EQ(config["heads"].size(), 4u);
  // The needle model has a retrieval head that routes well at B = 16 (docs/SNR.md): at least
  // one head is block-sparse, each with a measured block size and k, and every other full.
  int64_t block_sparse = 0;
  for (const auto& layer : config["heads"]) {
    ASSERT_EQ(layer.size(), 8u);
    for (const auto& head : layer) {
      if (head["kind"] == "full") continue;
      ASSERT_EQ(head["kind"], "block_sparse");
      EXPECT_THAT((std::vector<int64_t>{16, 64}),
                  ::testing::Contains(head["block_size"].get<int64_t>()));
      EXPECT_THAT((std::vector<int64_t>{1, 2}),
                  ::testing::Contains(head["topk_blocks"].get<int64_t>()));
      ++block_sparse;
    }
  }
  EXPECT_GE(block_sparse, 1);
  EXPECT_EQ(config["parameters"]["block_sparse_heads"], block_sparse);
  EXPECT_EQ(config["parameters"]["length"], 256);

  const auto evaluated = test::run_cli("sparse-eval " + zoo_model() + " --config " + path("cfg") +
                                       " --task niah --n 2 --length 256 --random-configs 0 "
                                       "--quiet --export-json " +
                                       path("eval.json") + " --out " + path("eval.h5"));
  ASSERT_EQ(evaluated.status, 0) << evaluated.output;
  std::ifstream rows_in(path("eval.json"));
  const auto rows = nlohmann::json::parse(rows_in)["rows"];
  ASSERT_EQ(rows.size(), 2u);  // dense and the config
  // sparse-eval counts the kept entries in the masks, the config records the closed form: the
  // same integer counts, divided and averaged over 32 heads in float64 (a JSON round trip is
  // exact for doubles).
  EXPECT_TRUE(test::tol::within(rows[1]["kept_fraction"].get<double>(),
                                config["parameters"]["kept_fraction"].get<double>(),
                                test::tol::gamma(2 * 32, test::tol::kFloat64), "kept fraction"));

  const std::string out = path("bad");
  test::expect_one_line_errors(
      "sparse-config",
      {{"--from-snr " + snr + " --recall 0", "--recall: expected a fraction in (0, 1]"},
       {"--from-snr " + snr + " --recall 1.5", "--recall: expected a number in [0, 1]"},
       {"--from-snr " + snr + " --budget 0", "--budget: expected a fraction in (0, 1]"},
       {"--from-snr " + snr + " --budget 2", "--budget: expected a number in [0, 1]"},
       {"--from-snr " + path("eval.h5"), "eval.h5 has no /analyses/sparsity_snr"},
       {"--from-snr " + snr + " --format duo", "--format duo: --from-snr writes per-head"},
       {"--from-snr " + snr + " --sparsity 0.5", "--sparsity"},
       {snr + " --recall 0.9 --format headscope", "--recall requires --from-snr"}},
      "--out " + out, out);
}

}  // namespace
}  // namespace headscope
