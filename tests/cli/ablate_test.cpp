// `headscope ablate` and `headscope importance` end to end on a trained zoo fixture: the
// numbers users see, the HDF5 groups they write, and one-line errors for bad input.
#include <hdf5.h>

#include <algorithm>
#include <filesystem>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/fixtures.h"
#include "tests/support/cli_run.h"
#include "tests/support/temp_dir_test.h"

namespace headscope {
namespace {

using ::testing::HasSubstr;

const std::string& model() {
  static const std::string path = test::fixture("zoo/ioi-2x4");
  return path;
}

constexpr auto& run = test::run_cli;

nlohmann::json run_json(const std::string& args) { return test::run_cli_json(args + " --quiet"); }

// A score file as `headscope retrieval` writes it: /analyses/retrieval_heads/score float64,
// written here with the HDF5 C API alone.
void write_score_file(const std::string& path, const std::vector<double>& scores, hsize_t layers,
                      hsize_t heads) {
  const hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  const hid_t links = H5Pcreate(H5P_LINK_CREATE);
  H5Pset_create_intermediate_group(links, 1);
  const hsize_t dims[2] = {layers, heads};
  const hid_t space = H5Screate_simple(2, dims, nullptr);
  const hid_t set = H5Dcreate2(file, "/analyses/retrieval_heads/score", H5T_IEEE_F64LE, space,
                               links, H5P_DEFAULT, H5P_DEFAULT);
  H5Dwrite(set, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, scores.data());
  H5Dclose(set);
  H5Sclose(space);
  H5Pclose(links);
  H5Fclose(file);
}

// Attribute or dataset values of a file written by the CLI.
double double_attribute(const std::string& path, const std::string& group,
                        const std::string& name) {
  double value = -1.0;
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  const hid_t attribute =
      H5Aopen_by_name(file, group.c_str(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT);
  EXPECT_GE(attribute, 0) << group << " " << name;
  if (attribute >= 0) {
    H5Aread(attribute, H5T_NATIVE_DOUBLE, &value);
    H5Aclose(attribute);
  }
  H5Fclose(file);
  return value;
}

std::vector<int64_t> int_dataset(const std::string& path, const std::string& name) {
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  const hid_t set = H5Dopen2(file, name.c_str(), H5P_DEFAULT);
  EXPECT_GE(set, 0) << name;
  std::vector<int64_t> values;
  if (set >= 0) {
    const hid_t space = H5Dget_space(set);
    values.resize(static_cast<size_t>(H5Sget_simple_extent_npoints(space)));
    H5Dread(set, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data());
    H5Sclose(space);
    H5Dclose(set);
  }
  H5Fclose(file);
  return values;
}

using AblateCli = test::TempDirTest;

TEST_F(AblateCli, ZeroingLayerZeroBreaksIoiAndIsWritten) {
  const std::string out = path("ablation.h5");
  const auto j =
      run_json("ablate " + model() + " --task ioi --heads 0.0,0.1,0.2,0.3 --n 24 --out " + out);
  EXPECT_EQ(j["heads"], nlohmann::json({"0.0", "0.1", "0.2", "0.3"}));
  const double before = j["baseline"]["accuracy"], after = j["ablated"]["accuracy"];
  EXPECT_GT(before, 0.8);
  EXPECT_LT(after, before - 0.2);
  EXPECT_LT(j["ablated"]["mean_logit_diff"].get<double>(),
            j["baseline"]["mean_logit_diff"].get<double>());
  EXPECT_DOUBLE_EQ(double_attribute(out, "/analyses/ablation", "ablated_accuracy"), after);
  EXPECT_EQ(int_dataset(out, "/analyses/ablation/mask"),
            (std::vector<int64_t>{1, 1, 1, 1, 0, 0, 0, 0}));
  EXPECT_EQ(int_dataset(out, "/analyses/ablation/ablated_correct").size(), 24u);
  // The 24 samples scored, ragged: lengths add up to the stored tokens; answers inside each.
  const auto lengths = int_dataset(out, "/analyses/ablation/sample_length");
  const auto offsets = int_dataset(out, "/analyses/ablation/sample_offset");
  const auto spans = int_dataset(out, "/analyses/ablation/answer_span");
  ASSERT_EQ(lengths.size(), 24u);
  ASSERT_EQ(spans.size(), 48u);
  int64_t total = 0;
  for (size_t i = 0; i < lengths.size(); ++i) {
    EXPECT_EQ(offsets[i], total);
    EXPECT_LT(spans[2 * i], spans[2 * i + 1]);
    EXPECT_LE(spans[2 * i + 1], lengths[i]);
    total += lengths[i];
  }
  EXPECT_EQ(int_dataset(out, "/analyses/ablation/sample_tokens").size(),
            static_cast<size_t>(total));

  const test::ShellResult text = run("ablate " + model() + " --task ioi --heads 1.2 --n 4 --quiet");
  ASSERT_EQ(text.status, 0) << text.output;
  EXPECT_THAT(text.output, HasSubstr("zero ablation of 1 heads: 1.2"));
  EXPECT_THAT(text.output, HasSubstr("logit difference"));
}

TEST_F(AblateCli, TopAndRandomHeadsFromAScoreFile) {
  const std::string scores = path("retrieval.h5");
  write_score_file(scores, {0.9, 0.0, 0.0, 0.8, 0.0, 0.0, 0.0, 0.0}, 2, 4);
  const auto top =
      run_json("ablate " + model() + " --task ioi --from " + scores + " --top 2 --n 8");
  EXPECT_EQ(top["heads"], nlohmann::json({"0.0", "0.3"}));
  EXPECT_EQ(top["selection"], "top");

  const std::string random = "ablate " + model() + " --task ioi --from " + scores +
                             " --random 3 --exclude-top 2 --seed 5 --n 8";
  const auto a = run_json(random), b = run_json(random);
  EXPECT_EQ(a["heads"], b["heads"]);
  EXPECT_EQ(a["ablated"], b["ablated"]);
  ASSERT_EQ(a["heads"].size(), 3u);
  for (const auto& head : a["heads"]) {
    EXPECT_NE(head, "0.0");
    EXPECT_NE(head, "0.3");
  }
}

TEST_F(AblateCli, ImportanceWritesCurveAndFeedsAblate) {
  const std::string out = path("importance.h5");
  const auto j = run_json("importance " + model() + " --task ioi --n 16 --out " + out);
  ASSERT_EQ(j["importance"].size(), 2u);
  ASSERT_FALSE(j["curve"].empty());
  EXPECT_EQ(j["curve"][0]["heads_pruned"], 0);
  const std::vector<int64_t> pruned =
      int_dataset(out, "/analyses/head_importance/curve_heads_pruned");
  ASSERT_EQ(pruned.size(), j["curve"].size());
  for (size_t i = 1; i < pruned.size(); ++i) EXPECT_EQ(pruned[i], pruned[i - 1] + 1);
  EXPECT_EQ(double_attribute(out, "/analyses/head_importance", "threshold"), 0.9);
  EXPECT_EQ(int_dataset(out, "/analyses/head_importance/pruned_at").size(), 8u);
  EXPECT_EQ(int_dataset(out, "/analyses/head_importance/sample_length").size(), 16u);
  EXPECT_EQ(int_dataset(out, "/analyses/head_importance/answer_span").size(), 32u);

  // Importance as the score file of ablate, in the same file.
  const auto least =
      run_json("ablate " + model() + " --task ioi --n 8 --from " + out +
               " --dataset /analyses/head_importance/importance --top 1 --append --out " + out);
  EXPECT_EQ(least["selection"], "top");
  EXPECT_GE(double_attribute(out, "/analyses/ablation", "baseline_accuracy"), 0.0);
}

TEST_F(AblateCli, BadInputIsOneLineAndExitOne) {
  const std::string scores = path("retrieval.h5"), wrong = path("wrong.h5");
  write_score_file(scores, std::vector<double>(8, 1.0), 2, 4);
  write_score_file(wrong, std::vector<double>(9, 1.0), 3, 3);
  const std::string ablate = "ablate " + model() + " --n 2 ";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {ablate + "--task sorting --heads 0.0", "--task: expected niah, ioi, colors or induction, got 'sorting'"},
      {ablate + "--task ioi --heads 2.0 --out " + path("never.h5"),
       "--heads: head 2.0 does not exist"},
      {ablate + "--task ioi --heads 0.0 --top 1 --from " + scores, "exactly one of"},
      {ablate + "--task ioi --top 9 --from " + scores, "K = 9 is more than the model's 8 heads"},
      {ablate + "--task ioi --top 2", "--top: needs --from"},
      {ablate + "--task ioi --random 2 --exclude-top 7 --from " + scores, "only 1 of"},
      {ablate + "--task ioi --top 2 --from " + scores + " --dataset /analyses/x/score",
       "has no dataset /analyses/x/score"},
      {ablate + "--task ioi --top 2 --from " + wrong,
       "shape [3, 3] does not match the model's [2, 4]"},
      {ablate + "--task ioi --heads 0.0 --method scale", "--method: expected zero, mean"},
      {ablate + "--task ioi --heads 0.0 --append --out " + wrong, "is not a headscope recording"},
      {ablate + "--task ioi --heads 0.0 --out " + wrong,
       "--out: " + wrong + " exists; add --append to add the analysis to it or --force"},
      {"importance " + model() + " --task induction --metric logit-diff --n 2", "no distractor"},
  };
  for (const auto& [args, expected] : cases) {
    const test::ShellResult r = run(args + " --quiet");
    EXPECT_EQ(r.status, 1) << args << "\n" << r.output;
    EXPECT_THAT(r.output, HasSubstr(expected)) << args;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
  }
  EXPECT_FALSE(std::filesystem::exists(path("never.h5")));
}

}  // namespace
}  // namespace headscope
