// MoA and MInference from the explorer's sparse-config view: it runs `headscope sparse-config`
// on the selected recording (a real one of the hf-tiny llama fixture with attention statistics)
// and writes the same bytes as running it directly; the program's error, a cancelled run and a
// missing program give a message; a file without statistics keeps the formats off. The
// headscope program is found beside the explorer or in the build tree's layout.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <map>

#include <gtest/gtest.h>
#include <QtCore/QCoreApplication>
#include <QtCore/QElapsedTimer>
#include <QtCore/QFileInfo>
#include <QtWidgets/QMenu>

#include "core/base/text_file.h"
#include "gui/models/sparse_config_run.h"
#include "gui/views/sparse_config_view.h"
#include "tests/explorer/explorer_files.h"
#include "tests/explorer/window_test.h"
#include "tests/explorer/window_wait.h"
#ifdef HEADSCOPE_CLI
#include "tests/support/fixtures.h"
#include "tests/support/shell.h"
#endif

namespace headscope::gui {
namespace {

// An executable file at `path` running `script` with sh.
void write_program(const std::string& path, const std::string& script) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path) << "#!/bin/sh\n" << script << "\n";
  ::chmod(path.c_str(), 0755);
}

// The moa and minference entries of the view's Export config menu.
std::vector<QAction*> fitted_actions(SparseConfigView& view) {
  std::vector<QAction*> out;
  for (QAction* action : view.export_menu()->actions()) {
    if (action->text() == "moa" || action->text() == "minference") out.push_back(action);
  }
  return out;
}

class SparseConfigFitTest : public test::WindowTest {
 protected:
  SparseConfigView& open(const std::string& file) {
    return open_view<SparseConfigView>({file}, "sparse", HeadSelection{0, 0, 0, 0});
  }
};

TEST_F(SparseConfigFitTest, TheProgramIsFoundBesideTheExplorerOrInTheBuildTree) {
  const QString bin = QString::fromStdString(path("bin"));
  EXPECT_TRUE(find_headscope_program(bin).isEmpty());
  EXPECT_TRUE(missing_program_message(bin).contains(bin + "/headscope"));
  // A build tree: build/gui/app/headscope-explorer and build/cli/headscope.
  const QString app = QString::fromStdString(path("build/gui/app"));
  std::filesystem::create_directories(path("build/gui/app"));
  std::ofstream(path("build/cli/headscope.txt"));
  std::filesystem::create_directories(path("build/cli/headscope"));  // a folder is no program
  EXPECT_TRUE(find_headscope_program(app).isEmpty());
  std::filesystem::remove(path("build/cli/headscope"));
  std::ofstream(path("build/cli/headscope")) << "not executable\n";
  EXPECT_TRUE(find_headscope_program(app).isEmpty());
  ::chmod(path("build/cli/headscope").c_str(), 0755);
  EXPECT_EQ(find_headscope_program(app), QString::fromStdString(path("build/cli/headscope")));
  // An install (or `headscope explore`): the program beside the explorer comes first.
  write_program(path("build/gui/app/headscope"), "exit 0");
  EXPECT_EQ(find_headscope_program(app), QString::fromStdString(path("build/gui/app/headscope")));
}

TEST_F(SparseConfigFitTest, AFileWithoutStatisticsKeepsTheFittedFormatsOff) {
  test::write_recording(path("patterns.h5"), {test::RunContents{8, true, false}});
  SparseConfigView& view = open(path("patterns.h5"));
  const std::vector<QAction*> actions = fitted_actions(view);
  ASSERT_EQ(actions.size(), 2u);
  for (QAction* action : actions) {
    EXPECT_FALSE(action->isEnabled()) << action->text().toStdString();
    EXPECT_TRUE(action->toolTip().contains("patterns.h5 does not hold"))
        << action->toolTip().toStdString();
  }
  EXPECT_FALSE(view.export_config(SparseFormat::kMInference, QString::fromStdString(path("out"))));
  EXPECT_TRUE(
      view.message().startsWith("minference: fitted to attention statistics, which "
                                "patterns.h5 does not hold"))
      << view.message().toStdString();
  EXPECT_FALSE(std::filesystem::exists(path("out")));

  // A second file with statistics turns them on when selected, and off again with the first.
  test::write_recording(path("stats.h5"), {test::RunContents{8, false, true}});
  ASSERT_TRUE(window_->open_files({path("stats.h5")}).empty());
  window_->workspace().select({1, 0, 0, 0});
  test::wait_idle(*window_);
  for (QAction* action : actions) EXPECT_TRUE(action->isEnabled());
  window_->workspace().select({0, 0, 0, 0});
  test::wait_idle(*window_);
  for (QAction* action : actions) EXPECT_FALSE(action->isEnabled());
}

TEST_F(SparseConfigFitTest, AMissingProgramGivesTheMessage) {
  test::write_recording(path("stats.h5"), {test::RunContents{}});
  SparseConfigView& view = open(path("stats.h5"));
  view.set_program_dir(QString::fromStdString(path("nowhere")));
  EXPECT_FALSE(view.export_config(SparseFormat::kMoa, QString::fromStdString(path("out"))));
  EXPECT_TRUE(view.message().startsWith("cannot find the headscope program (looked for " +
                                        QString::fromStdString(path("nowhere/headscope"))))
      << view.message().toStdString();
  EXPECT_FALSE(std::filesystem::exists(path("out")));

  // One that is there but cannot run (its interpreter is missing).
  std::filesystem::create_directories(path("bin"));
  std::ofstream(path("bin/headscope")) << "#!/no/such/interpreter\n";
  ::chmod(path("bin/headscope").c_str(), 0755);
  view.set_program_dir(QString::fromStdString(path("bin")));
  view.export_config(SparseFormat::kMoa, QString::fromStdString(path("out")));
  test::wait_idle(*window_);
  EXPECT_TRUE(view.message().contains("--format moa: cannot run " +
                                      QString::fromStdString(path("bin/headscope"))))
      << view.message().toStdString();
  EXPECT_FALSE(std::filesystem::exists(path("out")));
}

// A stand-in program that prints a line and waits: its output is shown, and Cancel ends it.
TEST_F(SparseConfigFitTest, ARunShowsItsOutputAndCancels) {
  test::write_recording(path("stats.h5"), {test::RunContents{}});
  SparseConfigView& view = open(path("stats.h5"));
  write_program(path("bin/headscope"), "echo \"fitting $2 $4\" >&2\nexec sleep 60");
  view.set_program_dir(QString::fromStdString(path("bin")));
  ASSERT_TRUE(view.export_config(SparseFormat::kMoa, QString::fromStdString(path("out"))))
      << view.message().toStdString();
  EXPECT_TRUE(view.busy());
  EXPECT_FALSE(view.export_config(SparseFormat::kMoa, QString::fromStdString(path("out2"))));
  EXPECT_TRUE(view.message().contains("An export is running")) << view.message().toStdString();
  const QString shown = "fitting " + QString::fromStdString(path("stats.h5")) + " moa";
  QElapsedTimer timer;
  timer.start();
  while (!view.message().contains(shown) && timer.elapsed() < 20000) {
    QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents, 100);
  }
  EXPECT_TRUE(view.message().contains(shown)) << view.message().toStdString();
  view.cancel_export();
  test::wait_idle(*window_);
  EXPECT_LT(timer.elapsed(), 20000);  // killed, not slept out
  EXPECT_TRUE(view.message().contains("--format moa: cancelled")) << view.message().toStdString();
}

#ifdef HEADSCOPE_CLI
test::ShellResult run_cli(const std::string& args) {
  return test::shell(std::string(HEADSCOPE_CLI) + " " + args);
}

// Every file of `dir`, name and bytes.
std::map<std::string, std::string> folder_files(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    out[entry.path().filename().string()] = read_text_file(entry.path().string());
  }
  return out;
}
#endif

TEST_F(SparseConfigFitTest, ExportEqualsSparseConfigOnARealRecording) {
#ifndef HEADSCOPE_CLI
  GTEST_SKIP() << "built without LibTorch: no headscope program to fit MoA and MInference";
#else
  std::ofstream tokens(path("tokens.txt"));
  for (int r = 0; r < 2; ++r) {
    for (int i = 0; i < 48; ++i) tokens << (i ? "," : "") << (i * 37 + r * 11) % 200 + 3;
    tokens << "\n";
  }
  tokens.close();
  const auto recorded =
      run_cli("record " + test::fixture("hf-tiny/llama") + " --tokens-file " + path("tokens.txt") +
              " --attention stats --window 8 --stats-block-size 8 "
              "--quiet --out " +
              path("rec.h5"));
  ASSERT_EQ(recorded.status, 0) << recorded.output;

  SparseConfigView& view = open(path("rec.h5"));
  view.set_program_dir(QFileInfo(HEADSCOPE_CLI).absolutePath());
  for (QAction* action : fitted_actions(view)) EXPECT_TRUE(action->isEnabled());
  for (const std::string format : {"moa", "minference"}) {
    SCOPED_TRACE(format);
    // The same --out for both (headscope_parameters.json names the files): sparse-config's
    // folder is moved aside before the explorer writes its own.
    const std::string exported = path(format), direct = path(format + "_cli");
    const auto r =
        run_cli("sparse-config " + path("rec.h5") + " --format " + format + " --out " + exported);
    ASSERT_EQ(r.status, 0) << r.output;
    std::filesystem::rename(exported, direct);
    const SparseFormat kind = format == "moa" ? SparseFormat::kMoa : SparseFormat::kMInference;
    ASSERT_TRUE(view.export_config(kind, QString::fromStdString(exported)))
        << view.message().toStdString();
    test::wait_idle(*window_);
    // The summary the program printed, naming its files.
    EXPECT_TRUE(view.message().contains(QString::fromStdString(format + " config for 2 layers x 4 "
                                                                        "heads")))
        << view.message().toStdString();
    const auto want = folder_files(direct);
    ASSERT_FALSE(want.empty());
    EXPECT_EQ(folder_files(exported), want);
    for (const auto& [name, bytes] : want) {
      EXPECT_TRUE(view.message().contains(QString::fromStdString(exported + "/" + name)))
          << name << ": " << view.message().toStdString();
    }
  }

  // The program's error: its exit status and first error line.
  std::ofstream(path("taken")) << "a file\n";
  ASSERT_TRUE(view.export_config(SparseFormat::kMoa, QString::fromStdString(path("taken"))));
  test::wait_idle(*window_);
  EXPECT_TRUE(view.message().contains(
      "--format moa ended with exit status 1: headscope: error: "
      "--out: " +
      QString::fromStdString(path("taken")) + " exists and is not a directory"))
      << view.message().toStdString();
#endif
}

}  // namespace
}  // namespace headscope::gui
