// `headscope eap` end to end on the trained zoo IOI fixture: the JSON summary and its
// faithfulness curve, the circuit group opened labelled in xarray and read back by `headscope
// overlap`, and one-line errors for bad options.
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

nlohmann::json run_json(const std::string& args) {
  return test::run_cli_json(args + " --quiet");
}

bool has_xarray() {
  return std::system("/usr/bin/python3 -c 'import xarray, h5netcdf' 2>/dev/null") == 0;
}

class EapCli : public test::TempDirTest {};

TEST_F(EapCli, IoiCircuitOpensLabelledAndOverlapReadsIt) {
  const std::string out = (dir_ / "eap.h5").string();
  const nlohmann::json j = run_json("eap " + model() +
                                    " --task ioi --n 6 --seed 1 --method eap-ig --steps 3 "
                                    "--top-n 40 --out " +
                                    out);
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j["name"], "ioi");
  EXPECT_EQ(j["method"], "eap-ig");
  EXPECT_EQ(j["steps"], 3);
  EXPECT_EQ(j["samples"], 6);
  // 2 layers x 4 heads (4 kv heads): receivers per layer 4 q + 4 k + 4 v + 1 MLP reading 1 + 5L
  // senders (the MLP also this layer's 4 heads), and the logits reading all 11.
  EXPECT_EQ(j["edges"], 12 * 1 + 5 + 12 * 6 + 10 + 11);
  ASSERT_EQ(j["head_scores"].size(), 8u);
  const nlohmann::json& curve = j["faithfulness"];
  ASSERT_GE(curve.size(), 3u);
  EXPECT_EQ(curve.front()["edges"], 0);
  EXPECT_EQ(curve.back()["edges"], j["edges"]);
  // The empty and the full graph are the corrupted and the clean run; tests/analyses/eap_test.cpp
  // checks both against a float bound, here only that the command reports them.
  EXPECT_NEAR(curve.front()["faithfulness"].get<double>(), 0.0, 1e-3);
  EXPECT_NEAR(curve.back()["faithfulness"].get<double>(), 1.0, 1e-3);

  // A second circuit appended to the same file; overlap reads both.
  run_json("eap " + model() +
           " --task ioi --n 6 --seed 1 --method eap --top-n 40 --name ioi_eap "
           "--append --out " +
           out);
  const nlohmann::json o = test::run_cli_json("overlap " + out + ":ioi " + out + ":ioi_eap");
  ASSERT_TRUE(o.is_object()) << o.dump();

  if (!has_xarray()) GTEST_SKIP() << "Debian's python3-xarray or python3-h5netcdf is not installed";
  const std::string script =
      "import xarray as xr\n"
      "c = xr.open_dataset('" +
      out +
      "', engine='h5netcdf', group='analyses/circuits/ioi')\n"
      "assert c.scores.dims == ('layer', 'head'), c.scores.dims\n"
      "assert c.selected.dims == ('layer', 'head')\n"
      "assert c.clean_metric.dims == ('sample',)\n"
      "assert c.attrs['method'] == 'eap-ig' and c.attrs['steps'] == 3, c.attrs\n"
      "assert c.attrs['top_n'] == 40 and c.attrs['ablation'] == 'patch'\n"
      "e = xr.open_dataset('" +
      out +
      "', engine='h5netcdf', group='analyses/circuits/ioi/edges')\n"
      "assert e.score.dims == ('edge',) and e.sender.dims == ('edge',), e.score.dims\n"
      "assert abs(e.score[0]) >= abs(e.score[-1])\n"
      "f = xr.open_dataset('" +
      out +
      "', engine='h5netcdf', "
      "group='analyses/circuits/ioi/faithfulness')\n"
      "assert f.score.dims == ('point',) and f.edges.dims == ('point',), f.score.dims\n"
      "assert int(f.edges[-1]) == e.sizes['edge']\n";
  std::ofstream(dir_ / "check.py") << script;
  const test::ShellResult check = test::shell("/usr/bin/python3 " + (dir_ / "check.py").string());
  EXPECT_EQ(check.status, 0) << check.output;
}

TEST_F(EapCli, BadOptionsAreOneLineAndWriteNothing) {
  const std::string out = (dir_ / "never.h5").string();
  test::expect_one_line_errors(
      "eap " + model(),
      {
          {"--task ioi --method acdc", "--method"},
          {"--task ioi --steps 0", "--steps"},
          {"--task ioi --top-n 0", "--top-n"},
          {"--task ioi --top-n 100000", "--top-n: the graph of this model has"},
          {"--task ioi --ablation resample", "--ablation"},
          {"--task ioi --top-n 10 --method eap --metric kl", "--method eap --metric kl"},
          {"--task ioi --name a/b", "--name"},
          {"", "exactly one of --task T or --dataset"},
          {"--dataset " + (dir_ / "pairs.jsonl").string() + " --n 5", "only with --task"},
          {"--task induction --top-n 10", "has no distractor"},
      },
      "--quiet --out " + out, out);
}

}  // namespace
}  // namespace headscope
