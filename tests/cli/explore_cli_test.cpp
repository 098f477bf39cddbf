// `headscope explore`: the explorer reached through the CLI, on a recording the CLI made, with
// no display (the screenshot mode), and its one-line error where no window can open.
#include <algorithm>
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

}  // namespace
}  // namespace headscope
