// Commands under Debian's torchrun, 2 and 3 CPU processes over Gloo: the file rank 0 writes
// equals, dataset for dataset and attribute for attribute, the one a single process writes.
// `retrieval`, `ablate`, `importance`, `patch`, `eap`, `snr`, `sparse-eval`: the other ranks
// write nothing. `record`: every rank writes
// its runs to a part file, rank 0 gathers them; a rank killed mid-run loses no other rank's runs.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/cli_run.h"
#include "tests/support/temp_dir_test.h"
#include "tests/support/torchrun.h"

namespace headscope {
namespace {

using ::testing::HasSubstr;

class DistributedCli : public test::TempDirTest {
 protected:
  void SetUp() override {
    test::TempDirTest::SetUp();
    if (!test::has_program("torchrun") || !test::has_program("/usr/bin/python3")) {
      GTEST_SKIP() << "Debian's python3-torch (torchrun) is not installed (scripts/setup.sh)";
    }
  }

  static std::string model() {
    return std::string(HEADSCOPE_SOURCE_DIR) + "/zoo/models/needle-4x8";
  }

  // 3 lengths x 2 depths x 4 built-in needles: 24 samples of unequal cost.
  static std::string retrieval(const std::string& out) {
    return "retrieval " + model() + " --out " + out +
           " --length 64,96,128 --depth 0.25,0.75 --max-new-tokens 8 --quiet";
  }

  // torchrun of `headscope ARGS` on `ranks` CPU processes (tests/support/torchrun.h), with
  // `env` (VAR=VALUE ...) set. Every rank runs one thread, as one_process does (a launch's
  // default is a share of the cores).
  test::ShellResult torchrun(int ranks, const std::string& args, const std::string& env = "") {
    return test::torchrun(ranks, std::string(HEADSCOPE_CLI) + " " + args + " --threads 1",
                          path("launch.sh"), path("torchrun_logs"), env);
  }

  // Five runs of unequal length (the split gives the ranks different counts) for the tiny
  // llama fixture, every attention output and the logits recorded.
  std::string record(const std::string& out) {
    const std::string runs = path("runs.txt");
    std::ofstream(runs) << "1,5,9,13,17,21,25\n2,4,6,8,10,12,14,16,18,20,22,24\n3,7,11,15,19\n"
                           "5,10,15,20,25,30,35,40,45,50,55,60,65,70,75,80,85,90,95,99\n"
                           "9,8,7,6,5,4,3,2,1\n";
    return "record " + std::string(HEADSCOPE_SOURCE_DIR) + "/tests/fixtures/hf-tiny/llama" +
           " --tokens-file " + runs + " --out " + out + " --attention both --save-logits --quiet";
  }

  // One process with torchrun's one thread per worker (OMP_NUM_THREADS=1): how a matrix
  // product splits its sums depends on the thread count, so only equal counts give equal bits.
  static test::ShellResult one_process(const std::string& args) {
    return test::shell(std::string("OMP_NUM_THREADS=1 ") + HEADSCOPE_CLI + " " + args);
  }

  test::ShellResult same_recording(const std::string& a, const std::string& b,
                                   const std::string& options = "") {
    return test::shell("/usr/bin/python3 " + std::string(HEADSCOPE_SOURCE_DIR) +
                       "/tests/cli/same_recording.py " + a + " " + b + " " + options);
  }

  test::ShellResult same(const std::string& a, const std::string& b,
                         const std::string& group = "/analyses/retrieval_heads") {
    return test::shell("/usr/bin/python3 " + std::string(HEADSCOPE_SOURCE_DIR) +
                       "/tests/cli/same_analysis.py " + a + " " + b + " " + group);
  }

  // `command(OUT)` by one process and by torchrun on each count of `ranks`: every dataset and
  // attribute of `group` in rank 0's OUT equals the one process's.
  void expect_same_as_one_process(const std::function<std::string(const std::string&)>& command,
                                  const std::vector<int>& ranks, const std::string& group) {
    const std::string single = path("single.h5");
    auto r = one_process(command(single));
    ASSERT_EQ(r.status, 0) << r.output;
    for (int n : ranks) {
      const std::string out = path("ranks" + std::to_string(n) + ".h5");
      r = torchrun(n, command(out));
      ASSERT_EQ(r.status, 0) << r.output;
      const auto check = same(single, out, group);
      EXPECT_EQ(check.status, 0) << n << " ranks:\n" << check.output;
    }
  }
};

TEST_F(DistributedCli, RetrievalOnTwoAndThreeRanksEqualsOneProcess) {
  expect_same_as_one_process(retrieval, {2, 3}, "/analyses/retrieval_heads");
}

TEST_F(DistributedCli, BadInputFailsOnEveryRankWithOneLine) {
  const auto r = torchrun(2, "retrieval " + model() + " --out " + path("x.h5") + " --length 3");
  EXPECT_NE(r.status, 0);
  EXPECT_THAT(r.output, HasSubstr("headscope: error: --length"));
  EXPECT_FALSE(std::filesystem::exists(path("x.h5")));
}

TEST_F(DistributedCli, RecordOnTwoRanksGathersPartFilesEqualToOneProcess) {
  const std::string single = path("single.h5");
  auto r = one_process(record(single));
  ASSERT_EQ(r.status, 0) << r.output;
  const std::string main_file = path("ranks2.h5");
  r = torchrun(2, record(main_file));
  ASSERT_EQ(r.status, 0) << r.output;
  // Every run is in the main file: the part files are gone.
  EXPECT_FALSE(std::filesystem::exists(path("ranks2.rank0.h5")));
  EXPECT_FALSE(std::filesystem::exists(path("ranks2.rank1.h5")));
  auto check = same_recording(single, main_file);
  EXPECT_EQ(check.status, 0) << check.output;
  // headscope's own reader takes it like any recording.
  r = test::run_cli("export " + main_file + " --out " + path("exported"));
  EXPECT_EQ(r.status, 0) << r.output;
}

TEST_F(DistributedCli, RecordKeepsTheRunsOfARankKilledMidRun) {
  const std::string single = path("single.h5");
  auto r = one_process(record(single));
  ASSERT_EQ(r.status, 0) << r.output;
  // Rank 1 runs 3 of the 5 runs (the split by length); it is killed after its first.
  const std::string main_file = path("killed.h5");
  r = torchrun(2, record(main_file), "HEADSCOPE_DIST_KILL=1:1");
  EXPECT_NE(r.status, 0) << r.output;
  EXPECT_NE(r.status, 124) << "the launch hung:\n" << r.output;
  EXPECT_THAT(r.output, HasSubstr("headscope: error: " + main_file + " holds 3 of 5 runs"));
  EXPECT_THAT(r.output, HasSubstr("rank 1 did not finish"));
  EXPECT_THAT(r.output, HasSubstr("missing_runs"));
  EXPECT_TRUE(std::filesystem::exists(path("killed.rank1.h5")));
  // Rank 0's runs and rank 1's completed one are in the main file and equal one process's.
  const auto check = same_recording(single, main_file, "--missing 2");
  EXPECT_EQ(check.status, 0) << check.output;
}

// 22 IOI samples in batches of 4: the ranks get unequal counts and one short batch. The mean
// method also checks that every rank ablates with the means of all reference samples.
TEST_F(DistributedCli, AblateOnTwoAndThreeRanksEqualsOneProcess) {
  const auto ablate = [&](const std::string& out) {
    return "ablate " + std::string(HEADSCOPE_SOURCE_DIR) + "/tests/fixtures/zoo/ioi-2x4" +
           " --task ioi --heads 0.1,1.2 --method mean --n 22 --batch 4 --quiet --out " + out;
  };
  expect_same_as_one_process(ablate, {2, 3}, "/analyses/ablation");
}

// 7 niah samples at two lengths in batches of 2, dense against a config with streaming heads
// and its random twin: the ranks get different batches of every length.
TEST_F(DistributedCli, SparseEvalOnTwoRanksEqualsOneProcess) {
  std::filesystem::create_directories(path("cfg"));
  std::ofstream(path("cfg/sparse_config.json"))
      << R"({"format": "headscope-sparse", "version": 1, "n_layers": 2, "n_heads": 4, "heads": )"
      << R"([[{"kind":"full"},{"kind":"streaming","sink":2,"window":8},{"kind":"full"},)"
      << R"({"kind":"streaming","sink":2,"window":8}],)"
      << R"([{"kind":"streaming","sink":2,"window":8},{"kind":"full"},{"kind":"full"},)"
      << R"({"kind":"full"}]]})";
  const auto sparse_eval = [&](const std::string& out) {
    return "sparse-eval " + std::string(HEADSCOPE_SOURCE_DIR) + "/tests/fixtures/zoo/ioi-2x4" +
           " --config " + path("cfg") + " --random-configs 1 --task niah --n 7 --batch 2" +
           " --length 64,80 --allow-long-context --quiet --out " + out;
  };
  expect_same_as_one_process(sparse_eval, {2}, "/analyses/sparse_eval");
}

// 18 IOI samples in batches of 4 (one short), pruning a quarter of the heads per step until
// accuracy falls: every pass is split over the ranks, and every rank must prune the same heads.
TEST_F(DistributedCli, ImportanceOnTwoAndThreeRanksEqualsOneProcess) {
  const auto importance = [&](const std::string& out) {
    return "importance " + std::string(HEADSCOPE_SOURCE_DIR) + "/tests/fixtures/zoo/ioi-2x4" +
           " --task ioi --n 18 --batch 4 --step-fraction 0.25 --metric-fraction 0.99 --quiet" +
           " --out " + out;
  };
  expect_same_as_one_process(importance, {2, 3}, "/analyses/head_importance");
}

// A rank killed between two exchanges of importance's pruning passes (HEADSCOPE_DIST_KILL=1:2:
// rank 1 dies before sending its second pass): rank 0 stops with an error naming itself, no
// file is written and the launch ends (a hang would be stopped by the helper's timeout, 124).
// Rank 0 either fails in the exchange (rank 1's connection closed) or, when torchrun's SIGTERM
// comes first, stops at that exchange on it; either way with an error, never silently.
TEST_F(DistributedCli, ImportanceStopsWithAnErrorWhenARankIsKilledBetweenExchanges) {
  const std::string out = path("killed.h5");
  auto r = torchrun(2,
                    "importance " + std::string(HEADSCOPE_SOURCE_DIR) +
                        "/tests/fixtures/zoo/ioi-2x4 --task ioi --n 18 --batch 4 "
                        "--step-fraction 0.25 --metric-fraction 0.99 --quiet --out " +
                        out,
                    "HEADSCOPE_DIST_KILL=1:2");
  EXPECT_NE(r.status, 0) << r.output;
  EXPECT_NE(r.status, 124) << "the launch hung:\n" << r.output;
  EXPECT_THAT(r.output, ::testing::AnyOf(
                            HasSubstr("headscope: error: distributed gather of results failed at "
                                      "rank 0 of 2"),
                            HasSubstr("headscope: error: distributed scan: rank 0 of 2 stopped "
                                      "by SIGTERM before exchange")));
  // torchrun's summary names the rank that died and its signal.
  EXPECT_THAT(r.output, HasSubstr("SIGKILL"));
  EXPECT_FALSE(std::filesystem::exists(out));
}

// 7 IOI pairs (of more than one length) x 8 heads in batches of 3: the ranks split the sweep's
// batches of every length group; kl also needs every rank's clean runs.
TEST_F(DistributedCli, PatchOnTwoAndThreeRanksEqualsOneProcess) {
  const auto patch = [&](const std::string& out) {
    return "patch " + std::string(HEADSCOPE_SOURCE_DIR) + "/tests/fixtures/zoo/ioi-2x4" +
           " --task ioi --n 7 --batch 3 --metric kl --quiet --out " + out;
  };
  expect_same_as_one_process(patch, {2, 3}, "/analyses/activation_patching/z");
}

// Iterative path patching (stages and their edges, each a split run) on 7 IOI pairs in batches
// of 3: every rank ends each stage with every sender's score, so all select the same receivers.
TEST_F(DistributedCli, PathPatchOnTwoAndThreeRanksEqualsOneProcess) {
  const auto path_patch = [&](const std::string& out) {
    return "path-patch " + std::string(HEADSCOPE_SOURCE_DIR) + "/tests/fixtures/zoo/ioi-2x4" +
           " --task ioi --n 7 --batch 3 --iterative --top-fraction 0.25 --quiet --out " + out;
  };
  expect_same_as_one_process(path_patch, {2, 3}, "/analyses/circuits/ioi_path_patching");
}

// EAP-IG (3 steps) on 7 IOI pairs in batches of 2, then the faithfulness curve with mean
// ablation: both phases split their batches, and the scores are summed over them in order.
TEST_F(DistributedCli, EapOnTwoAndThreeRanksEqualsOneProcess) {
  const auto eap = [&](const std::string& out) {
    return "eap " + std::string(HEADSCOPE_SOURCE_DIR) + "/tests/fixtures/zoo/ioi-2x4" +
           " --task ioi --n 7 --batch 2 --steps 3 --ablation mean --top-n 20 --quiet --out " + out;
  };
  expect_same_as_one_process(eap, {2, 3}, "/analyses/circuits/ioi");
}

// 5 niah samples of unequal cost split by sample; every query's estimates are added in query
// order on every rank.
TEST_F(DistributedCli, SnrOnTwoAndThreeRanksEqualsOneProcess) {
  const auto snr = [&](const std::string& out) {
    return "snr " + model() + " --task niah --n 5 --length 96 --block-sizes 8,16" +
           " --topk-blocks 1,2 --quiet --out " + out;
  };
  expect_same_as_one_process(snr, {2, 3}, "/analyses/sparsity_snr");
}

}  // namespace
}  // namespace headscope
