// headscope-explorer --screenshot: the program writes a view as a PNG with no display, and bad
// input ends in one error line, exit status 1 and no PNG.
#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>

#include <gtest/gtest.h>
#include <QtGui/QImage>

#include "tests/explorer/analysis_files.h"
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
  for (const char* view : {"grid", "attention", "tokens", "window", "files"}) {
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

std::string read_text(const std::string& file) {
  std::ifstream in(file);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST_F(ScreenshotTest, WritesSvgAndTheShownDataAsCsv) {
  write_recording(path("a.h5"), {RunContents{16, true, true}});
  const std::string common = " --quantity retrieval --layer 1 --head 2 --width 900 --height 600";
  Result result = run_explorer_program(path("a.h5") + " --screenshot attention --out " +
                                       path("attention.svg") + common);
  ASSERT_EQ(result.status, 0) << result.output;
  const std::string svg = read_text(path("attention.svg"));
  EXPECT_NE(svg.find("<svg"), std::string::npos);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
  // Axis labels are text, not pixels.
  EXPECT_NE(svg.find("tok15"), std::string::npos);

  // The grid's CSV: every head's value of the chosen quantity, as the file holds it.
  result =
      run_explorer_program(path("a.h5") + " --screenshot grid --out " + path("grid.csv") + common);
  ASSERT_EQ(result.status, 0) << result.output;
  std::string expected = "layer,head,retrieval_heads/retrieval_score\n";
  for (int64_t l = 0; l < test::kLayers; ++l) {
    for (int64_t h = 0; h < test::kHeads; ++h) {
      expected += std::to_string(l) + "," + std::to_string(h) + "," +
                  QString::number(test::analysis_score(l, h), 'g', 17).toStdString() + "\n";
    }
  }
  EXPECT_EQ(read_text(path("grid.csv")), expected);

  // The attention view's: the whole 16 x 16 map of layer 1, head 2.
  result = run_explorer_program(path("a.h5") + " --screenshot attention --out " +
                                path("attention.csv") + common);
  ASSERT_EQ(result.status, 0) << result.output;
  const std::string csv = read_text(path("attention.csv"));
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 17);
  const std::string row5 =
      "\n5," + QString::number(test::pattern_value(1, 2, 5, 0), 'g', 9).toStdString() + ",";
  EXPECT_NE(csv.find(row5), std::string::npos) << csv;

  // --token: the token view with that query.
  result = run_explorer_program(path("a.h5") + " --screenshot tokens --token 7 --out " +
                                path("tokens.csv") + common);
  ASSERT_EQ(result.status, 0) << result.output;
  const std::string tokens = read_text(path("tokens.csv"));
  EXPECT_EQ(tokens.rfind("position,token,prob_from_query_7\n0,\"tok0\",", 0), 0u) << tokens;
}

// The analysis views (ablation and importance, sparsity SNR, sparse configs) from one file
// holding all three: a non-blank PNG each, and their data as the file holds it.
TEST_F(ScreenshotTest, WritesTheAnalysisViews) {
  test::write_head_effects(path("e.h5"));
  test::write_sparsity_snr(path("e.h5"), {}, false);
  test::write_sparse_eval(path("e.h5"), true, false);
  const std::string common = " --layer 1 --head 1 --width 900 --height 600";
  for (const char* view : {"ablation", "snr", "sparse"}) {
    const std::string out = path(std::string(view) + ".png");
    const Result result =
        run_explorer_program(path("e.h5") + " --screenshot " + view + " --out " + out + common);
    ASSERT_EQ(result.status, 0) << view << ": " << result.output;
    const QImage image(QString::fromStdString(out));
    ASSERT_FALSE(image.isNull()) << view;
    EXPECT_GT(colours(image), 8u) << view;
  }
  Result result = run_explorer_program(path("e.h5") + " --screenshot ablation --out " +
                                       path("ablation.csv") + common);
  ASSERT_EQ(result.status, 0) << result.output;
  EXPECT_EQ(read_text(path("ablation.csv"))
                .rfind("rank,layer,head,head_importance/importance,ablated\n1,0,1,0.9", 0),
            0u);
  result =
      run_explorer_program(path("e.h5") + " --screenshot snr --out " + path("snr.csv") + common);
  ASSERT_EQ(result.status, 0) << result.output;
  const std::string snr = read_text(path("snr.csv"));
  EXPECT_EQ(std::count(snr.begin(), snr.end(), '\n'), 4) << snr;
  EXPECT_NE(
      snr.find("\n1,1,64," + QString::number(test::snr_theory(1, 1, 2), 'g', 17).toStdString()),
      std::string::npos)
      << snr;
  result = run_explorer_program(path("e.h5") + " --screenshot sparse --out " + path("sparse.csv") +
                                common);
  ASSERT_EQ(result.status, 0) << result.output;
  EXPECT_EQ(read_text(path("sparse.csv"))
                .rfind("config,layer,head,kind,block size,top-k blocks,sink,window\n"
                       "\"retrieval@50.0%\",0,0,1,0,0,4,64\n",
                       0),
            0u);
}

TEST_F(ScreenshotTest, WritesTheAttentionCompareAndAConfigFolder) {
  write_recording(path("c.h5"), {RunContents{8, true, false}, RunContents{8, false, true, 4}});
  const std::string common = " --layer 1 --head 2 --width 1200 --height 600";
  Result result = run_explorer_program(path("c.h5") + " --screenshot attention-compare --out " +
                                       path("compare.png") + common);
  ASSERT_EQ(result.status, 0) << result.output;
  EXPECT_GT(colours(QImage(QString::fromStdString(path("compare.png")))), 16u);
  result = run_explorer_program(path("c.h5") + " --screenshot attention-compare --out " +
                                path("compare.csv") + common);
  ASSERT_EQ(result.status, 0) << result.output;
  // Run 0's pattern against run 1's block mass: 2 x 2 blocks of 4, B's first block 1.
  const std::string csv = read_text(path("compare.csv"));
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 5) << csv;
  EXPECT_EQ(csv.find("query,key,a,b,a_minus_b\n0,0,"), 0u) << csv;
  EXPECT_NE(csv.find("\n4,4,"), std::string::npos) << csv;

  std::filesystem::create_directories(path("cfg"));
  std::ofstream(path("cfg") + "/sparse_config.json")
      << R"({"format": "headscope-sparse", "version": 1, "n_layers": 2, "n_heads": 3,
             "heads": [[{"kind": "full"}, {"kind": "streaming", "sink": 4, "window": 64},
                        {"kind": "full"}],
                       [{"kind": "full"}, {"kind": "full"},
                        {"kind": "block_sparse", "block_size": 32, "topk_blocks": 4}]]})";
  result = run_explorer_program(path("c.h5") + " --sparse-config " + path("cfg") +
                                " --screenshot sparse --out " + path("folder.csv") + common);
  ASSERT_EQ(result.status, 0) << result.output;
  EXPECT_EQ(read_text(path("folder.csv")),
            "config,layer,head,kind,block size,top-k blocks,sink,window\n"
            "\"headscope\",0,0,0,0,0,0,0\n\"headscope\",0,1,1,0,0,4,64\n"
            "\"headscope\",0,2,0,0,0,0,0\n\"headscope\",1,0,0,0,0,0,0\n"
            "\"headscope\",1,1,0,0,0,0,0\n\"headscope\",1,2,2,32,4,0,0\n");
  std::filesystem::create_directories(path("empty"));
  result = run_explorer_program(path("c.h5") + " --sparse-config " + path("empty") +
                                " --screenshot sparse --out " + path("empty.png"));
  EXPECT_EQ(result.status, 1) << result.output;
  EXPECT_EQ(result.output.rfind("headscope-explorer: error: --sparse-config: " + path("empty") +
                                    ": holds no sparse config",
                                0),
            0u)
      << result.output;
  EXPECT_FALSE(std::filesystem::exists(path("empty.png")));
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
      {path("a.h5") + " --screenshot grid --out " + path("out.txt"),
       "must end in .png, .svg or .csv"},
      {path("a.h5") + " --screenshot files --out " + path("out.csv"), "no data to write as CSV"},
      {path("missing.h5"), "missing.h5"},
  };
  for (const Case& c : cases) {
    const Result result = run_explorer_program(c.arguments);
    EXPECT_EQ(result.status, 1) << c.arguments << ": " << result.output;
    EXPECT_EQ(result.output.rfind("headscope-explorer: error: ", 0), 0u) << result.output;
    EXPECT_NE(result.output.find(c.expected), std::string::npos) << result.output;
    EXPECT_EQ(std::count(result.output.begin(), result.output.end(), '\n'), 1) << result.output;
    for (const char* name : {"out.png", "out.txt", "out.csv"}) {
      EXPECT_FALSE(std::filesystem::exists(path(name))) << c.arguments;
    }
  }
  const Result headless = run_explorer_program(path("a.h5"), true);
  EXPECT_EQ(headless.status, 1) << headless.output;
  EXPECT_NE(headless.output.find("no display"), std::string::npos) << headless.output;
}

}  // namespace
}  // namespace headscope::gui
