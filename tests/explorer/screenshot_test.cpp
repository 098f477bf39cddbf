// headscope-explorer --screenshot: the program writes a view as a PNG with no display, and bad
// input ends in one error line, exit status 1 and no PNG.
#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <set>
#include <string>

#include <gtest/gtest.h>
#include <QtGui/QImage>

#include "tests/explorer/explorer_files.h"
#include "tests/support/temp_dir_test.h"

namespace headscope::gui {
namespace {

using test::RunContents;
using test::write_newer_version_recording;
using test::write_recording;
using test::write_text_file;
using test::write_truncated_recording;

struct Result {
  int status;
  std::string output;  // stdout and stderr
};

// Offscreen, or with no display and no platform named (`headless`). Bounded: an explorer that
// opened a window by mistake would wait for a user forever.
Result run_explorer_program(const std::string& arguments, bool headless = false) {
  const std::string env = headless ? "env -u DISPLAY -u WAYLAND_DISPLAY -u QT_QPA_PLATFORM "
                                   : "env -u DISPLAY QT_QPA_PLATFORM=offscreen ";
  const std::string command = env + "timeout 60 " + HEADSCOPE_EXPLORER + " " + arguments + " 2>&1";
  Result result{-1, ""};
  FILE* pipe = popen(command.c_str(), "r");
  std::array<char, 4096> buffer;
  while (size_t n = fread(buffer.data(), 1, buffer.size(), pipe))
    result.output.append(buffer.data(), n);
  const int status = pclose(pipe);
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

size_t colours(const QImage& image) {
  std::set<QRgb> seen;
  for (int y = 0; y < image.height(); y += 2) {
    for (int x = 0; x < image.width(); x += 2) seen.insert(image.pixel(x, y));
  }
  return seen.size();
}

class ScreenshotTest : public test::TempDirTest {};

TEST_F(ScreenshotTest, WritesEachViewAsANonBlankPng) {
  write_recording(path("a.h5"), {RunContents{16, true, true}});
  for (const char* view : {"grid", "attention", "window", "files"}) {
    const std::string out = path(std::string(view) + ".png");
    const Result result = run_explorer_program(
        path("a.h5") + " --screenshot " + view + " --out " + out +
        " --quantity 'mean entropy' --layer 1 --head 2 --width 900 --height 600");
    ASSERT_EQ(result.status, 0) << view << ": " << result.output;
    const QImage image(QString::fromStdString(out));
    ASSERT_FALSE(image.isNull()) << view;
    EXPECT_GT(image.width(), 200) << view;
    EXPECT_GT(colours(image), 8u) << view;
  }
  EXPECT_EQ(QImage(QString::fromStdString(path("window.png"))).width(), 900);
}

TEST_F(ScreenshotTest, BadInputIsOneLineAndWritesNothing) {
  write_text_file(path("text.h5"));
  write_recording(path("a.h5"), {RunContents{}});
  const std::string out = path("out.png");
  struct Case {
    std::string arguments;
    std::string expected;
  };
  const Case cases[] = {
      {path("text.h5") + " --screenshot grid --out " + out, path("text.h5")},
      {path("a.h5") + " --screenshot grid --out " + out + " --quantity nothing",
       "--quantity: no per-head quantity contains 'nothing'"},
      {path("a.h5") + " --screenshot grid --out " + out + " --layer 2",
       "--layer: 2 is out of range: " + path("a.h5") + " has 2 layers"},
      {path("a.h5") + " --screenshot grid --out " + out + " --run 1", "--run: 1 is out of range"},
      {path("a.h5") + " --screenshot nowhere --out " + out, "--screenshot"},
      {path("a.h5") + " --screenshot grid", "--out"},
      {path("missing.h5"), "missing.h5"},
  };
  for (const Case& c : cases) {
    const Result result = run_explorer_program(c.arguments);
    EXPECT_EQ(result.status, 1) << c.arguments << ": " << result.output;
    EXPECT_EQ(result.output.rfind("headscope-explorer: error: ", 0), 0u) << result.output;
    EXPECT_NE(result.output.find(c.expected), std::string::npos) << result.output;
    EXPECT_EQ(std::count(result.output.begin(), result.output.end(), '\n'), 1) << result.output;
    EXPECT_FALSE(std::filesystem::exists(out)) << c.arguments;
  }
  const Result headless = run_explorer_program(path("a.h5"), true);
  EXPECT_EQ(headless.status, 1) << headless.output;
  EXPECT_NE(headless.output.find("no display"), std::string::npos) << headless.output;
}

}  // namespace
}  // namespace headscope::gui
