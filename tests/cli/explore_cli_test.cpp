// `headscope explore`: the explorer reached through the CLI, on a recording the CLI made, with
// no display (the screenshot mode), and its one-line error where no window can open.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/cli_run.h"
#include "tests/support/fixtures.h"
#include "tests/support/temp_dir_test.h"

namespace headscope {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// A build without Qt 6 Widgets has an explore command that only says so.
class ExploreCli : public test::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    const auto help = test::run_cli("explore --help");
    if (help.output.find("--screenshot") == std::string::npos) {
      GTEST_SKIP() << "headscope was built without the explorer";
    }
  }
};

std::string file_start(const std::string& path, size_t bytes) {
  std::ifstream in(path, std::ios::binary);
  std::string start(bytes, '\0');
  in.read(start.data(), static_cast<std::streamsize>(bytes));
  return start.substr(0, static_cast<size_t>(in.gcount()));
}

TEST_F(ExploreCli, ScreenshotsARecordingWithoutADisplay) {
  const std::string recording = path("rec.h5");
  const auto recorded = test::run_cli("record " + test::fixture("hf-tiny/llama") +
                                      " --tokens 1,2,3,4,5,6 --attention both --out " + recording);
  ASSERT_EQ(recorded.status, 0) << recorded.output;
  const std::string png = path("attention.png");
  const auto shot = test::run_cli("explore " + recording + " --screenshot attention --out " + png +
                                  " --quantity 'mean entropy' --layer 1 --head 1");
  ASSERT_EQ(shot.status, 0) << shot.output;
  EXPECT_EQ(file_start(png, 8), "\x89PNG\r\n\x1a\n");
}

TEST_F(ExploreCli, WithoutADisplayIsOneErrorLine) {
  const std::string recording = path("rec.h5");
  ASSERT_EQ(test::run_cli("record " + test::fixture("hf-tiny/llama") + " --tokens 1,2,3 --out " +
                          recording)
                .status,
            0);
  const auto r = test::shell("env -u DISPLAY -u WAYLAND_DISPLAY -u QT_QPA_PLATFORM timeout 60 " +
                             std::string(HEADSCOPE_CLI) + " explore " + recording);
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_THAT(r.output, StartsWith("headscope: error: no display"));
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
}

// A real model's statistics-only recording at 32K tokens, made through the CPU path, opens in
// the explorer: the grid's mean entropy equals the file's (h5py), and the attention view
// around query 30,000 draws from the block mass and top-k lists.
TEST_F(ExploreCli, OpensA32kTokenStatisticsRecordingOfARealModel) {
  if (std::system("/usr/bin/python3 -c 'import h5py' 2>/dev/null") != 0) {
    GTEST_SKIP() << "Debian's python3-h5py is not installed";
  }
  constexpr int kTokens = 32768;
  const std::string tokens = path("tokens.txt"), recording = path("long.h5");
  {
    std::ofstream out(tokens);
    uint32_t state = 1;
    for (int i = 0; i < kTokens; ++i) {
      state = state * 1103515245u + 12345u;
      out << (i ? "," : "") << (state >> 16) % 500;
    }
    out << "\n";
  }
  const auto recorded =
      test::run_cli("record " + test::fixture("hf-tiny/llama") + " --tokens-file " + tokens +
                    " --attention stats --allow-long-context --quiet --out " + recording);
  ASSERT_EQ(recorded.status, 0) << recorded.output;
  const std::string grid = path("grid.csv");
  auto shot = test::run_cli("explore " + recording + " --screenshot grid --out " + grid +
                            " --quantity 'mean entropy'");
  ASSERT_EQ(shot.status, 0) << shot.output;
  // The explorer's mean of T float32 values against numpy's float64 one: within the float32
  // summation bound T * 2^-24, relative.
  const std::string check =
      "/usr/bin/python3 -c \"import csv, sys, h5py, numpy as np\n"
      "e = h5py.File(sys.argv[1], 'r')['runs/0/attention_stats/entropy'][()]\n"
      "rows = list(csv.DictReader(open(sys.argv[2])))\n"
      "assert len(rows) == e.shape[0] * e.shape[1], len(rows)\n"
      "for r in rows:\n"
      "    want = e[int(r['layer']), int(r['head'])].astype(np.float64).mean()\n"
      "    got = float(list(r.values())[2])\n"
      "    assert abs(got - want) <= abs(want) * e.shape[2] * 2.0**-24, (r, want)\n"
      "\" " +
      recording + " " + grid;
  EXPECT_EQ(std::system(check.c_str()), 0) << check;
  const std::string png = path("attention.png"), rows = path("attention.csv");
  for (const std::string& out : {png, rows}) {
    shot = test::run_cli("explore " + recording + " --screenshot attention --out " + out +
                         " --layer 1 --head 1 --token 30000");
    ASSERT_EQ(shot.status, 0) << shot.output;
  }
  EXPECT_EQ(file_start(png, 8), "\x89PNG\r\n\x1a\n");
  // Every entry the view lists around query 30,000 is one of the file's top-k entries of layer
  // 1, head 1: that query's key and its probability.
  const std::string entries =
      "/usr/bin/python3 -c \"import csv, sys, h5py, numpy as np\n"
      "s = h5py.File(sys.argv[1], 'r')['runs/0/attention_stats']\n"
      "index, prob = s['topk_index'][1, 1], s['topk_prob'][1, 1]\n"
      "rows = list(csv.DictReader(open(sys.argv[2])))\n"
      "assert rows, 'no entries'\n"
      "for r in rows:\n"
      "    q, k = int(r['query']), int(r['key'])\n"
      "    assert abs(q - 30000) < 2048, r\n"
      "    hit = np.nonzero(index[q] == k)[0]\n"
      "    assert len(hit) == 1 and abs(prob[q][hit[0]] - float(r['prob'])) <= 1e-7 * "
      "prob[q][hit[0]], r\n"
      "\" " +
      recording + " " + rows;
  EXPECT_EQ(std::system(entries.c_str()), 0) << entries;
}

}  // namespace
}  // namespace headscope
