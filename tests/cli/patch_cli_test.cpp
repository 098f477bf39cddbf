// `headscope patch` end to end on the trained zoo IOI fixture: the JSON summary, the HDF5 group
// opened labelled in xarray, a user's --dataset, and one-line errors for bad options and records.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/fixtures.h"
#include "tests/support/cli_run.h"
#include "tests/support/temp_dir_test.h"

namespace headscope {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const std::string& model() {
  static const std::string path = test::fixture("zoo/ioi-2x4");
  return path;
}

constexpr auto& run = test::run_cli;

nlohmann::json run_json(const std::string& args) { return test::run_cli_json(args + " --quiet"); }

bool has_xarray() {
  return std::system("/usr/bin/python3 -c 'import xarray, h5netcdf' 2>/dev/null") == 0;
}

class PatchCli : public test::TempDirTest {};

TEST_F(PatchCli, IoiHeadSweepOpensLabelledInXarray) {
  const std::string out = (dir_ / "patch.h5").string();
  const nlohmann::json j = run_json("patch " + model() + " --task ioi --n 6 --seed 1 --out " + out);
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j["hook"], "z");
  EXPECT_EQ(j["per"], "head");
  EXPECT_EQ(j["direction"], "denoise");
  EXPECT_EQ(j["metric"], "logit-diff");
  EXPECT_EQ(j["samples"], 6);
  EXPECT_EQ(j["shape"], (nlohmann::json{2, 4}));
  EXPECT_GT(j["clean_mean"].get<double>(), j["corrupted_mean"].get<double>());
  ASSERT_EQ(j["scores"].size(), 8u);
  ASSERT_FALSE(j["top"].empty());
  // Denoising ranks by |score|: the first is the largest.
  double largest = 0.0;
  for (const auto& s : j["scores"]) largest = std::max(largest, std::abs(s.get<double>()));
  EXPECT_DOUBLE_EQ(std::abs(j["top"][0]["score"].get<double>()), largest);

  // A second hook appended to the same file keeps the first.
  run_json("patch " + model() +
           " --task ioi --n 6 --seed 1 --hook resid_pre --per layer --append --out " + out);
  if (!has_xarray()) GTEST_SKIP() << "Debian's python3-xarray or python3-h5netcdf is not installed";
  const std::string script =
      "import xarray as xr\n"
      "z = xr.open_dataset('" +
      out +
      "', engine='h5netcdf', group='analyses/activation_patching/z')\n"
      "r = xr.open_dataset('" +
      out +
      "', engine='h5netcdf', group='analyses/activation_patching/resid_pre')\n"
      "assert z.scores.dims == ('layer', 'head'), z.scores.dims\n"
      "assert z.per_sample.dims == ('sample', 'layer', 'head'), z.per_sample.dims\n"
      "assert z.clean_metric.dims == ('sample',)\n"
      "assert z.attrs['hook'] == 'z' and z.attrs['direction'] == 'denoise', z.attrs\n"
      "assert z.attrs['metric'] == 'logit-diff' and z.attrs['task'] == 'ioi'\n"
      "assert z.sizes['sample'] == 6\n"
      "assert r.scores.dims == ('layer',), r.scores.dims\n"
      // Whole-residual denoising is the clean run (its float32 bound is checked in
      // tests/analyses); here only that the group holds it.
      "assert abs(float(r.scores[0]) - 1) < 1e-2, float(r.scores[0])\n"
      "print(float(z.scores.max()))\n";
  std::ofstream(dir_ / "check.py") << script;
  const test::ShellResult check = test::shell("/usr/bin/python3 " + (dir_ / "check.py").string());
  EXPECT_EQ(check.status, 0) << check.output;
}

TEST_F(PatchCli, DatasetOfTokenIdsWithProb) {
  const std::string data = (dir_ / "pairs.jsonl").string();
  std::ofstream(data)
      << R"({"clean": " when alice and bob went to the store , bob gave a drink to", )"
         R"("corrupted": " when alice and bob went to the store , carol gave a drink to", )"
         R"("answer": " alice", "distractor": " bob"})"
      << "\n\n"
      << R"({"clean": [256, 355, 568, 269], "corrupted": [256, 355, 600, 269], "answer": 568})"
      << "\n";
  const nlohmann::json j = run_json("patch " + model() + " --dataset " + data + " --metric prob");
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j["samples"], 2);
  EXPECT_EQ(j["dataset"], data);
  // logit-diff needs every distractor: the second record has none.
  const test::ShellResult r = run("patch " + model() + " --dataset " + data);
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.output,
              HasSubstr("headscope: error: --metric logit-diff: " + data + ":3 has no distractor"));
}

TEST_F(PatchCli, BadInputIsOneLineAndWritesNothing) {
  const std::string out = (dir_ / "never.h5").string();
  const std::string bad = (dir_ / "bad.jsonl").string();
  std::ofstream(bad) << R"({"clean": [1, 2], "corrupted": [1, 2, 3], "answer": 5})"
                     << "\n";
  const std::pair<std::string, std::string> cases[] = {
      {"--task ioi --hook hook_z", "--hook"},
      {"--task ioi --per heads", "--per"},
      {"--task ioi --direction forward", "--direction"},
      {"--task ioi --metric accuracy", "--metric"},
      {"--task ioi --batch 0", "--batch"},
      {"", "exactly one of --task T or --dataset"},
      {"--task ioi --dataset " + bad, "exactly one of --task T or --dataset"},
      {"--dataset " + bad + " --n 5", "only with --task"},
      {"--task ioi --hook resid_pre", "hook resid_pre has no heads"},
      {"--task induction", "has no distractor"},
      {"--dataset " + bad, bad + ":1: corrupted: 3 tokens; expected as many as clean's 2"},
      {"--task ioi --per head-position --n 30", "the same length"},
  };
  for (const auto& [args, expected] : cases) {
    const test::ShellResult r = run("patch " + model() + " " + args + " --quiet --out " + out);
    EXPECT_EQ(r.status, 1) << args << "\n" << r.output;
    EXPECT_THAT(r.output, HasSubstr(expected)) << args;
    EXPECT_THAT(r.output, HasSubstr("headscope: error:")) << args;
    EXPECT_FALSE(std::filesystem::exists(out)) << args;
  }
}

}  // namespace
}  // namespace headscope
