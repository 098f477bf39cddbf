// `headscope path-patch` end to end on the trained zoo IOI fixture: the JSON summary of an
// iterative run, the circuit group opened labelled in xarray and read by `headscope overlap`,
// and one-line errors for bad receivers and options.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/cli_run.h"
#include "tests/support/fixtures.h"
#include "tests/support/temp_dir_test.h"

namespace headscope {
namespace {

using ::testing::HasSubstr;

const std::string& model() {
  static const std::string path = test::fixture("zoo/ioi-2x4");
  return path;
}

bool has_xarray() {
  return std::system("/usr/bin/python3 -c 'import xarray, h5netcdf' 2>/dev/null") == 0;
}

class PathPatchCli : public test::TempDirTest {};

TEST_F(PathPatchCli, IterativeCircuitOpensInXarrayAndOverlap) {
  const std::string out = (dir_ / "circuits.h5").string();
  const nlohmann::json j =
      test::run_cli_json("path-patch " + model() +
                         " --task ioi --n 6 --seed 1 --iterative --threshold 0.05 --quiet "
                         "--out " +
                         out);
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j["receivers"], "logits");
  EXPECT_EQ(j["iterative"], true);
  EXPECT_EQ(j["metric"], "logit-diff");
  EXPECT_EQ(j["samples"], 6);
  ASSERT_GE(j["stages"].size(), 1u);
  EXPECT_EQ(j["stages"][0]["receivers"], "logits");
  ASSERT_EQ(j["stages"][0]["scores"].size(), 8u);
  // Every head of the circuit joined at some stage; every selected stage-0 head feeds the logits.
  for (const auto& head : j["circuit"]) EXPECT_GE(head["stage"].get<int>(), 0);
  for (const auto& selected : j["stages"][0]["selected"]) {
    EXPECT_GE(std::abs(selected["score"].get<double>()), 0.05);
  }
  for (const auto& edge : j["edges"]) {
    if (edge["stage"] == 0) {
      EXPECT_EQ(edge["receiver"], "logits");
    }
  }

  // A second circuit in the same file (non-iterative, into one head's value) keeps the first.
  test::run_cli_json("path-patch " + model() +
                     " --task ioi --n 4 --receivers 1.3:v --top-fraction 0.25 --name v13 "
                     "--sender-positions final --quiet "
                     "--append --out " +
                     out);
  const test::ShellResult overlap =
      test::run_cli("overlap " + out + ":ioi_path_patching " + out + ":v13");
  EXPECT_EQ(overlap.status, 0) << overlap.output;
  EXPECT_THAT(overlap.output, HasSubstr("jaccard"));

  if (!has_xarray()) GTEST_SKIP() << "Debian's python3-xarray or python3-h5netcdf is not installed";
  const std::string script =
      "import xarray as xr, numpy as np\n"
      "c = xr.open_dataset('" +
      out +
      "', engine='h5netcdf', group='analyses/circuits/ioi_path_patching')\n"
      "assert c.scores.dims == ('layer', 'head'), c.scores.dims\n"
      "assert c.selected.dims == ('layer', 'head')\n"
      "assert c.head_stage.dims == ('layer', 'head')\n"
      "assert c.stage_scores.dims == ('stage', 'layer', 'head'), c.stage_scores.dims\n"
      "assert c.stage_per_sample.dims == ('stage', 'sample', 'layer', 'head')\n"
      "assert c.stage_receivers.dims == ('stage',) and c.stage_cut.dims == ('stage',)\n"
      "assert str(c.stage_receivers.values[0]) in ('logits', \"b'logits'\"), "
      "c.stage_receivers.values\n"
      "assert c.clean_metric.dims == ('sample',) and c.sizes['sample'] == 6\n"
      "assert c.attrs['method'] == 'path_patching' and c.attrs['task'] == 'ioi', c.attrs\n"
      "assert c.attrs['iterative'] == 1 and c.attrs['receivers'] == 'logits'\n"
      "assert c.attrs['selection'] == 'threshold' and c.attrs['threshold'] == 0.05\n"
      "assert ((c.head_stage >= 0) == (c.selected == 1)).all()\n"
      "s0 = c.stage_scores[0]\n"
      "assert np.isfinite(s0).all() and c.sizes['stage'] == int(c.attrs['stages'])\n"
      "v = xr.open_dataset('" +
      out +
      "', engine='h5netcdf', group='analyses/circuits/v13')\n"
      "assert v.attrs['selection'] == 'top_fraction' and v.attrs['top_fraction'] == 0.25\n"
      "assert v.attrs['sender_positions'] == 'final', v.attrs\n"
      "assert c.attrs['sender_positions'] == 'all', c.attrs\n"
      "assert np.isnan(v.scores[1]).all() and np.isfinite(v.scores[0]).all()\n"
      "assert int(v.selected.sum()) == 1\n";
  std::ofstream(dir_ / "check.py") << script;
  const test::ShellResult check = test::shell("/usr/bin/python3 " + (dir_ / "check.py").string());
  EXPECT_EQ(check.status, 0) << check.output;
}

TEST_F(PathPatchCli, BadInputIsOneLineAndWritesNothing) {
  const std::string out = (dir_ / "never.h5").string();
  test::expect_one_line_errors(
      "path-patch " + model(),
      {
          {"--task ioi --receivers 9.9", "--receivers: '9.9': layer 9 is out of range"},
          {"--task ioi --receivers 1.x",
           "--receivers: '1.x': expected logits or LAYER.HEAD[:q|k|v]"},
          {"--task ioi --receivers logits:q", "the logits have no q, k or v input"},
          {"--task ioi --receivers 0.1", "no head precedes the receivers"},
          {"--task ioi --receiver-inputs q,x", "--receiver-inputs"},
          {"--task ioi --threshold -1", "--threshold"},
          {"--task ioi --top-fraction 1.5", "--top-fraction"},
          {"--task ioi --top-fraction 0.5 --threshold 0.1", "--top-fraction"},
          {"--task ioi --metric accuracy", "--metric"},
          {"--task ioi --name a/b", "--name: 'a/b' is not one group name"},
          {"", "path-patch: give exactly one of --task T or --dataset"},
          {"--task induction", "has no distractor"},
      },
      "--n 2 --quiet --out " + out, out);
}

}  // namespace
}  // namespace headscope
