// `headscope overlap` end to end: circuits and per-head datasets written by the tests (the
// circuit group through AnalysisWriter alone, as docs/FORMAT.md describes it, not through the
// library the command reads it with), the table, --json, the HDF5 output in xarray, the PNG, and
// one-line errors for bad input. Also the outputs of `importance` and `ablate` as inputs.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/store/analysis_writer.h"
#include "tests/support/fixtures.h"
#include "tests/support/model_summary.h"
#include "tests/support/cli_run.h"
#include "tests/support/temp_dir_test.h"

namespace headscope {
namespace {

using ::testing::HasSubstr;

constexpr auto& run = test::run_cli;

constexpr auto& run_json = test::run_cli_json;

// Scores of a 4 x 8 model where `heads` score 10 + their index and every other head its index
// divided by 100, so the top |heads| are exactly `heads`.
std::vector<double> scores_for(const std::vector<int>& heads) {
  std::vector<double> scores(32);
  for (int h = 0; h < 32; ++h) scores[static_cast<size_t>(h)] = h / 100.0;
  for (int h : heads) scores[static_cast<size_t>(h)] = 10.0 + h;
  return scores;
}

void write_circuit_group(const std::string& file, const std::string& name,
                         const std::vector<int>& heads) {
  const OutputMode mode = std::filesystem::exists(file) ? OutputMode::kAppend : OutputMode::kNew;
  AnalysisWriter out =
      AnalysisWriter::begin({file, test::made_up_model(4, 8), mode}, "circuits", name);
  out.write_f64("scores", {4, 8}, scores_for(heads), {"layer", "head"});
  std::vector<uint8_t> selected(32, 0);
  for (int h : heads) selected[static_cast<size_t>(h)] = 1;
  out.write_array("selected", DType::kU8, {4, 8}, selected.data(), {"layer", "head"});
  out.set_attribute("", "method", "path_patching");
  out.set_attribute("", "task", name);
  out.set_attribute("", "selection", "top_k");
  out.set_attribute("", "top_k", static_cast<int64_t>(heads.size()));
  out.commit();
}

class OverlapCli : public test::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    // The temporary directory exists only from here: paths are made after it.
    circuits_ = path("circuits.h5");
    single_ = path("single.h5");
    scores_ = path("scores.h5");
    // ioi = heads 0..5, colors = 3..7 and 20: 3 shared, 9 in either, of 32.
    write_circuit_group(circuits_, "ioi", {0, 1, 2, 3, 4, 5});
    write_circuit_group(circuits_, "colors", {3, 4, 5, 6, 7, 20});
    write_circuit_group(single_, "induction", {0, 1, 30, 31});
    AnalysisWriter out =
        AnalysisWriter::begin(scores_, "head_importance", test::made_up_model(4, 8));
    out.write_f64("importance", {4, 8}, scores_for({0, 1, 2, 8, 9, 10}), {"layer", "head"});
    out.write_f64("curve", {4}, {1, 2, 3, 4});
    out.commit();
  }

  std::string circuits_, single_, scores_;
};

TEST_F(OverlapCli, TablePrintsEveryStatisticOfAPair) {
  const test::ShellResult r = run("overlap " + circuits_ + ":ioi " + circuits_ + ":colors");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("2 circuits over 32 heads (4 layers x 8 heads)"));
  EXPECT_THAT(r.output, HasSubstr("ioi vs colors"));
  EXPECT_THAT(r.output, HasSubstr("heads          6 and 6 of 32"));
  EXPECT_THAT(r.output, HasSubstr("intersection   3 (union 9)"));
  EXPECT_THAT(r.output, HasSubstr("jaccard        0.333"));
  EXPECT_THAT(r.output, HasSubstr("overlap coeff  0.500"));
  EXPECT_THAT(r.output, HasSubstr("containment    0.500 of ioi in colors, 0.500 of colors in ioi"));
  // scipy.stats.hypergeom.sf(2, 32, 6, 6) = 0.0629.
  EXPECT_THAT(r.output, HasSubstr("expected intersection 1.12 (|A||B|/N); P(X >= 3): "
                                  "hypergeometric 0.0629, permutation "));
  EXPECT_THAT(r.output, HasSubstr("rank agreement Spearman "));
  EXPECT_THAT(r.output, HasSubstr("over 32 heads scored in both"));
}

TEST_F(OverlapCli, JsonAndTheMatrixOfThreeInputsWithAPerHeadDataset) {
  const std::string importance = scores_ + ":/analyses/head_importance/importance";
  const std::string args = "overlap " + circuits_ + ":ioi " + circuits_ + ":colors " + importance +
                           " --top-k 6 --permutations 2000 --seed 3";
  const nlohmann::json j = run_json(args);
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j["heads"], 32);
  ASSERT_EQ(j["circuits"].size(), 3u);
  EXPECT_EQ(j["circuits"][2]["label"], "importance");
  EXPECT_EQ(j["circuits"][2]["size"], 6);
  ASSERT_EQ(j["pairs"].size(), 3u);
  const nlohmann::json& ioi_importance = j["pairs"][1];
  EXPECT_EQ(ioi_importance["a"], "ioi");
  EXPECT_EQ(ioi_importance["intersection"], 3);  // heads 0, 1, 2
  EXPECT_EQ(ioi_importance["jaccard"], 3.0 / 9);
  EXPECT_EQ(j["jaccard"][0][0], 1.0);
  EXPECT_EQ(j["jaccard"][2][1], j["jaccard"][1][2]);
  EXPECT_GE(ioi_importance["permutation_p"].get<double>(), 1.0 / 2001);
  // Seeded: the same command prints the same numbers.
  EXPECT_EQ(run_json(args).dump(), j.dump());

  const test::ShellResult text = run(args);
  EXPECT_THAT(text.output, HasSubstr("\njaccard"));
  EXPECT_THAT(text.output, HasSubstr("ioi vs importance"));
}

TEST_F(OverlapCli, OutOpensInXarrayWithNamedDimensions) {
  if (std::system("/usr/bin/python3 -c 'import xarray, h5netcdf' 2>/dev/null") != 0) {
    GTEST_SKIP() << "/usr/bin/python3 cannot import xarray and h5netcdf";
  }
  const std::string out = path("overlap.h5");
  const test::ShellResult r =
      run("overlap " + circuits_ + ":ioi " + circuits_ + ":colors " + single_ + " --out " + out);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("wrote /analyses/circuit_overlap to " + out));
  const test::ShellResult check =
      test::shell("/usr/bin/python3 -c \"import xarray as xr; ds = xr.open_dataset('" + out +
                  "', engine='h5netcdf', group='analyses/circuit_overlap'); "
                  "print(ds.jaccard.dims, list(ds.circuit_a.values), "
                  "float(ds.jaccard.sel(circuit_a='ioi', circuit_b='colors')), "
                  "float(ds.containment.sel(circuit_a='induction', circuit_b='ioi')), "
                  "int(ds.intersection.sel(circuit_a='ioi', circuit_b='induction')), "
                  "list(ds['size'].values), ds.attrs['heads'], ds.attrs['permutations'])\"");
  EXPECT_EQ(check.status, 0) << check.output;
  EXPECT_EQ(check.output,
            "('circuit_a', 'circuit_b') ['ioi', 'colors', 'induction'] 0.3333333333333333 0.5 2 "
            "[6, 6, 4] 32 10000\n");
  // Appending keeps the circuits beside the overlap.
  const test::ShellResult again = run("overlap " + circuits_ + ":ioi " + circuits_ +
                                      ":colors --out " + circuits_ + " --append");
  EXPECT_EQ(again.status, 0) << again.output;
  EXPECT_EQ(run("overlap " + circuits_ + ":ioi " + circuits_ + ":colors").status, 0);
}

TEST_F(OverlapCli, PngIsAPngOfTheJaccardMatrix) {
  const std::string png = path("jaccard.png");
  const test::ShellResult r = run("overlap " + circuits_ + ":ioi " + circuits_ + ":colors " +
                                  single_ + " --permutations 0 --png " + png);
  if (r.output.find("this build has no Qt 6") != std::string::npos) {
    GTEST_SKIP() << "headscope built without Qt 6";
  }
  ASSERT_EQ(r.status, 0) << r.output;
  std::ifstream in(png, std::ios::binary);
  std::string magic(8, '\0');
  in.read(magic.data(), 8);
  EXPECT_EQ(magic, "\x89PNG\r\n\x1a\n");
  EXPECT_GT(std::filesystem::file_size(png), 1000u);
}

TEST_F(OverlapCli, BadInputIsOneLineAndExitOne) {
  const std::string small = path("small.h5");
  {
    AnalysisWriter out = AnalysisWriter::begin(small, "head_importance", test::made_up_model(2, 3));
    out.write_f64("importance", {2, 3}, {1, 2, 3, 4, 5, 6}, {"layer", "head"});
    out.commit();
  }
  const std::string never = path("never.h5");
  const std::string ioi = circuits_ + ":ioi";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {ioi + " " + path("absent.h5"), path("absent.h5")},
      {ioi + " " + circuits_ + ":induction",
       circuits_ + " has no circuit 'induction' (it has: colors, ioi)"},
      {ioi + " " + circuits_, circuits_ + " holds 2 circuits (colors, ioi); name one as FILE:NAME"},
      {ioi + " " + scores_, scores_ + " has no circuits (/analyses/circuits)"},
      {ioi + " " + scores_ + ":/analyses/head_importance/curve --top-k 2",
       scores_ + ": /analyses/head_importance/curve: shape [4] is not the model's [layer, head] "
                 "[4, 8]"},
      {ioi + " " + scores_ + ":/analyses/head_importance/importance",
       "a per-head dataset selects no heads by itself; add --top-k K or --threshold X"},
      {ioi + " " + circuits_ + ":colors --top-k 40",
       ioi + ": cannot select the top 40 heads: 32 of 32 heads are scored"},
      {ioi + " " + circuits_ + ":colors --top-k 2 --threshold 1", "--top-k excludes --threshold"},
      {ioi + " " + circuits_ + ":colors --threshold nan", "--threshold: expected a finite number"},
      {ioi + " " + circuits_ + ":colors --abs", "--abs: needs --top-k or --threshold"},
      {ioi, "need at least two circuits to compare, got 1"},
      {ioi + " " + small + ":/analyses/head_importance/importance --top-k 2 --out " + never,
       "is of llama, 2 layers x 3 heads"},
      {ioi + " " + circuits_ + ":colors --out " + scores_,
       "--out: " + scores_ + " exists; add --append"},
      {ioi + " " + circuits_ + ":colors --out " + small + " --append",
       small + " holds a recording of llama, 2 layers x 3 heads"},
  };
  for (const auto& [args, expected] : cases) {
    const test::ShellResult r = run("overlap " + args);
    EXPECT_EQ(r.status, 1) << args << "\n" << r.output;
    EXPECT_THAT(r.output, HasSubstr("headscope: error: ")) << args;
    EXPECT_THAT(r.output, HasSubstr(expected)) << args;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
  }
  EXPECT_FALSE(std::filesystem::exists(never));
}

// The per-head outputs of other commands are overlap inputs: importance of the trained ioi
// fixture on two sample draws (it is trained on ioi alone), and an ablation's mask.
TEST_F(OverlapCli, ImportanceAndAblationOutputsAreInputs) {
  const std::string model = test::fixture("zoo/ioi-2x4");
  const std::string ioi = path("imp_a.h5"), other = path("imp_b.h5");
  for (const auto& [seed, out] : {std::pair{"0", ioi}, std::pair{"5", other}}) {
    const test::ShellResult r = run("importance " + model + " --task ioi --n 8 --seed " + seed +
                                    " --quiet --json --out " + out);
    ASSERT_EQ(r.status, 0) << r.output;
  }
  const test::ShellResult ablate = run(
      "ablate " + model + " --task ioi --heads 0.1,1.2 --n 2 --quiet --json --append --out " + ioi);
  ASSERT_EQ(ablate.status, 0) << ablate.output;

  const std::string dataset = ":/analyses/head_importance/importance";
  const nlohmann::json j =
      run_json("overlap " + ioi + dataset + " " + other + dataset + " --top-k 3");
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j["heads"], 8);
  EXPECT_EQ(j["circuits"][0]["label"], "imp_a:importance");
  EXPECT_EQ(j["pairs"][0]["rank_heads"], 8);
  EXPECT_GE(j["pairs"][0]["intersection"].get<int>(), 0);

  // The ablated heads (mask 1) against the importance top 2.
  const nlohmann::json mask = run_json("overlap " + ioi + ":/analyses/ablation/mask " + ioi +
                                       dataset + " --threshold 1 --permutations 0");
  ASSERT_TRUE(mask.is_object());
  EXPECT_EQ(mask["circuits"][0]["size"], 2);
}

}  // namespace
}  // namespace headscope
