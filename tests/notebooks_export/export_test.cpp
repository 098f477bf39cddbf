// headscope export end to end: recordings made by the real CLI and by RecordingWriter are
// exported, the README and notebook checked, and the notebook's code cells run by Debian's
// Python (h5py, xarray, h5netcdf, matplotlib), as a user opening explore.ipynb would.
#include <sys/wait.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/base/error.h"
#include "core/store/hdf5_attribute.h"
#include "core/store/recording_writer.h"
#include "notebooks_export/recording_export.h"
#include "tests/support/fixtures.h"
#include "tests/support/model_summary.h"
#include "tests/support/shell.h"
#include "tests/support/temp_dir_test.h"

namespace headscope {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

using test::shell;

test::ShellResult cli(const std::string& args) {
  return shell(std::string(HEADSCOPE_CLI) + " " + args);
}

bool has_notebook_python() {
  return std::system(
             "/usr/bin/python3 -c 'import h5py, xarray, h5netcdf, matplotlib' "
             "2>/dev/null") == 0;
}

// Runs each export's README examples and notebook code cells in order (after
// nbformat.validate when nbformat exists).
test::ShellResult run_exports(const std::vector<fs::path>& dirs) {
  std::string command = "MPLBACKEND=Agg /usr/bin/python3 " + std::string(HEADSCOPE_SOURCE_DIR) +
                        "/tests/notebooks_export/run_export.py";
  for (const fs::path& dir : dirs) command += " " + dir.string();
  return shell(command);
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::set<std::string> listing(const fs::path& dir) {
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.insert(entry.path().filename());
  return names;
}

template <typename E, typename F>
std::string error_message(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an exception";
  return "";
}

// The nbformat 4.5 rules a notebook must meet for Jupyter to open it without rewriting it.
void expect_nbformat_4_5(const fs::path& path) {
  const auto notebook = nlohmann::json::parse(read_file(path));
  EXPECT_EQ(notebook.at("nbformat"), 4);
  EXPECT_EQ(notebook.at("nbformat_minor"), 5);
  EXPECT_EQ(notebook.at("metadata").at("kernelspec").at("name"), "python3");
  const std::regex id_pattern("[a-zA-Z0-9_-]{1,64}");
  std::set<std::string> ids;
  ASSERT_FALSE(notebook.at("cells").empty());
  for (const auto& cell : notebook.at("cells")) {
    const std::string id = cell.at("id");
    EXPECT_TRUE(std::regex_match(id, id_pattern)) << id;
    EXPECT_TRUE(ids.insert(id).second) << "duplicate id " << id;
    EXPECT_TRUE(cell.at("metadata").is_object()) << id;
    const auto& source = cell.at("source");
    ASSERT_TRUE(source.is_array()) << id;
    for (size_t i = 0; i < source.size(); ++i) {
      const std::string line = source[i];
      // Every line but the last keeps its newline, and no element holds two lines.
      EXPECT_EQ(line.find('\n'), i + 1 < source.size() ? line.size() - 1 : std::string::npos)
          << id << " line " << i;
    }
    if (cell.at("cell_type") == "code") {
      EXPECT_EQ(cell.at("outputs"), nlohmann::json::array()) << id;
      EXPECT_TRUE(cell.at("execution_count").is_null()) << id;
    } else {
      EXPECT_EQ(cell.at("cell_type"), "markdown") << id;
      EXPECT_FALSE(cell.contains("outputs")) << id;
    }
  }
}

// The notebook's markdown, joined, for checks on what it tells the reader.
std::string notebook_markdown(const fs::path& path) {
  const auto notebook = nlohmann::json::parse(read_file(path));
  std::string text;
  for (const auto& cell : notebook.at("cells")) {
    if (cell.at("cell_type") != "markdown") continue;
    for (const auto& line : cell.at("source")) text += line.get<std::string>();
    text += "\n";
  }
  return text;
}

constexpr int64_t kLayers = 2;
constexpr int64_t kHeads = 3;
constexpr int64_t kTokens = 6;
constexpr int64_t kDModel = 12;

enum class Attention { kPatterns, kStats, kBoth, kNeither };

ModelSummary made_up_model() {
  return test::made_up_model(kLayers, kHeads, "gpt2", 100, "/models/made-up");
}

// One run over a made-up 2-layer, 3-head model. Patterns attend uniformly to every earlier
// position, so query q's entropy is log(q + 1); stats hold exactly that.
void write_synthetic(const std::string& path, Attention attention) {
  RecordingWriter writer = RecordingWriter::create(path, made_up_model());
  RunWriter run = writer.begin_run();
  run.write_tokens({5, 6, 7, 8, 9, 10});
  run.write_token_text({"The", " $5", "\n", " cat", " sat", "."});
  run.set_attribute("prompt", "say \"hi\"\nthen stop");
  run.set_attribute("task", "synthetic");
  const bool patterns = attention == Attention::kPatterns || attention == Attention::kBoth;
  const bool stats = attention == Attention::kStats || attention == Attention::kBoth;
  std::vector<float> pattern(kHeads * kTokens * kTokens, 0.0f);
  std::vector<float> entropy;
  for (int64_t head = 0; head < kHeads; ++head) {
    for (int64_t query = 0; query < kTokens; ++query) {
      for (int64_t key = 0; key <= query; ++key) {
        pattern[(head * kTokens + query) * kTokens + key] = 1.0f / static_cast<float>(query + 1);
      }
    }
  }
  for (int64_t layer = 0; layer < kLayers; ++layer) {
    for (int64_t head = 0; head < kHeads; ++head) {
      for (int64_t query = 0; query < kTokens; ++query) {
        entropy.push_back(std::log(static_cast<float>(query + 1)));
      }
    }
    if (patterns) {
      run.write_array("blocks." + std::to_string(layer) + ".attn.hook_pattern", DType::kF32,
                      {kHeads, kTokens, kTokens}, DType::kF32, pattern.data());
    }
  }
  if (stats) {
    run.write_array("attention_stats/entropy", DType::kF32, {kLayers, kHeads, kTokens}, DType::kF32,
                    entropy.data());
  }
  if (attention == Attention::kNeither) {
    const std::vector<float> resid(kTokens * kDModel, 0.5f);
    run.write_array("blocks.0.hook_resid_post", DType::kF32, {kTokens, kDModel}, DType::kF32,
                    resid.data());
  }
  run.commit();
}

class ExportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = test::unique_temp_path("export_test_" + std::string(test->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir_);
  }

  fs::path dir_;
};

const std::set<std::string> kExportFiles = {"README.md", "explore.ipynb", "recording.h5"};

// The path a notebook user takes: record with the CLI, export with the CLI, run the notebook.
TEST_F(ExportTest, CliRecordingExportsAndItsNotebookRuns) {
  const std::string recording = (dir_ / "llama.h5").string();
  const fs::path out = dir_ / "export";
  auto recorded =
      cli("record " + test::fixture("hf-tiny/llama") +
          " --tokens 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20 --out " + recording);
  ASSERT_EQ(recorded.status, 0) << recorded.output;
  auto exported = cli("export " + recording + " --out " + out.string());
  ASSERT_EQ(exported.status, 0) << exported.output;
  EXPECT_THAT(exported.output, HasSubstr("exported 1 run(s) to " + out.string()));

  EXPECT_EQ(listing(out), kExportFiles);
  EXPECT_EQ(read_file(out / "recording.h5"), read_file(recording));
  const std::string readme = read_file(out / "README.md");
  EXPECT_THAT(readme, HasSubstr("`llama` from `" + test::fixture("hf-tiny/llama") + "`"));
  EXPECT_THAT(readme, HasSubstr("### Run 0: 20 tokens"));
  EXPECT_THAT(readme, HasSubstr("| `blocks.L.attn.hook_pattern`, L = 0–1 | [4, 20, 20] each |"));
  EXPECT_THAT(readme, HasSubstr("| `tokens` | [20] |"));
  EXPECT_THAT(readme, HasSubstr("f[\"runs/0\"]"));
  EXPECT_THAT(readme, HasSubstr("engine=\"h5netcdf\", group=\"runs/0\""));
  expect_nbformat_4_5(out / "explore.ipynb");
  EXPECT_THAT(notebook_markdown(out / "explore.ipynb"),
              HasSubstr("Run 0 holds attention patterns for layers 0–1 ([4, 20, 20] in layer 0) "
                        "and no `attention_stats`"));

  if (!has_notebook_python()) {
    GTEST_SKIP() << "Debian's python3-h5py, -xarray, -h5netcdf or -matplotlib is missing";
  }
  auto ran = run_exports({out});
  ASSERT_EQ(ran.status, 0) << ran.output;
  EXPECT_TRUE(fs::exists(out / "pattern.png"));
  EXPECT_TRUE(fs::exists(out / "entropy_grid.png"));
}

// Patterns only, statistics only (long context), both, neither: every notebook runs, and draws
// what the recording allows.
TEST_F(ExportTest, NotebookHandlesPatternsStatsBothAndNeither) {
  struct Case {
    const char* name;
    Attention attention;
    bool pattern_figure;
    bool entropy_figure;
    const char* markdown;
  };
  const std::vector<Case> cases = {
      {"patterns", Attention::kPatterns, true, true,
       "the entropy grid is computed from the patterns"},
      {"stats", Attention::kStats, false, true, "but no full attention patterns"},
      {"both", Attention::kBoth, true, true,
       "and `attention_stats/entropy` [2, 3, 6]: the pattern plot reads the patterns"},
      {"neither", Attention::kNeither, false, false, "**Nothing to plot.** Run 0 holds neither"},
  };
  std::vector<fs::path> exports;
  for (const Case& c : cases) {
    const std::string recording = (dir_ / (std::string(c.name) + ".h5")).string();
    write_synthetic(recording, c.attention);
    const fs::path out = dir_ / c.name;
    const ExportResult result =
        export_recording(recording, ExportOptions{}.with_out_dir(out.string()));
    EXPECT_EQ(result.run_count, 1);
    EXPECT_EQ(result.files, (std::vector<std::string>{(out / "recording.h5").string(),
                                                      (out / "README.md").string(),
                                                      (out / "explore.ipynb").string()}));
    expect_nbformat_4_5(out / "explore.ipynb");
    EXPECT_THAT(notebook_markdown(out / "explore.ipynb"), HasSubstr(c.markdown)) << c.name;
    const std::string readme = read_file(out / "README.md");
    EXPECT_THAT(readme, HasSubstr("### Run 0: 6 tokens, task \"synthetic\"")) << c.name;
    EXPECT_THAT(readme, HasSubstr("Prompt: \"say \\\"hi\\\"\\nthen stop\"")) << c.name;
    exports.push_back(out);
  }
  EXPECT_THAT(read_file(dir_ / "both" / "README.md"),
              HasSubstr("| `attention_stats/entropy` | [2, 3, 6] |"));

  if (!has_notebook_python()) {
    GTEST_SKIP() << "Debian's python3-h5py, -xarray, -h5netcdf or -matplotlib is missing";
  }
  auto ran = run_exports(exports);
  ASSERT_EQ(ran.status, 0) << ran.output;
  for (const Case& c : cases) {
    EXPECT_EQ(fs::exists(dir_ / c.name / "pattern.png"), c.pattern_figure) << c.name;
    EXPECT_EQ(fs::exists(dir_ / c.name / "entropy_grid.png"), c.entropy_figure) << c.name;
  }
  EXPECT_THAT(ran.output, HasSubstr("holds neither attention patterns nor attention_stats"));
}

TEST_F(ExportTest, RejectsWhatIsNotARecordingBeforeWritingAnything) {
  const fs::path out = dir_ / "export";
  const std::string missing = (dir_ / "missing.h5").string();
  EXPECT_THAT(error_message<IoError>(
                  [&] { export_recording(missing, ExportOptions{}.with_out_dir(out.string())); }),
              HasSubstr(missing + ": cannot open as HDF5 file"));

  const std::string text = (dir_ / "notes.txt").string();
  std::ofstream(text) << "not HDF5\n";
  EXPECT_THAT(error_message<IoError>(
                  [&] { export_recording(text, ExportOptions{}.with_out_dir(out.string())); }),
              HasSubstr(text));

  const std::string plain = (dir_ / "plain.h5").string();
  H5Fclose(H5Fcreate(plain.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
  EXPECT_EQ(error_message<InvalidInput>(
                [&] { export_recording(plain, ExportOptions{}.with_out_dir(out.string())); }),
            plain + " is not a headscope recording (no root attribute headscope_format)");

  const std::string newer = (dir_ / "newer.h5").string();
  write_synthetic(newer, Attention::kPatterns);
  {
    const hid_t file = H5Fopen(newer.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    ASSERT_GE(file, 0);
    h5_write_int_attribute(file, "headscope_format", 2, {newer, "/"});
    H5Fclose(file);
  }
  EXPECT_EQ(error_message<InvalidInput>(
                [&] { export_recording(newer, ExportOptions{}.with_out_dir(out.string())); }),
            newer + " was written by format version 2; this headscope reads version 1");

  const std::string empty = (dir_ / "empty.h5").string();
  RecordingWriter::create(empty, made_up_model());
  EXPECT_EQ(error_message<InvalidInput>(
                [&] { export_recording(empty, ExportOptions{}.with_out_dir(out.string())); }),
            empty + " holds no committed run; there is nothing to export");

  EXPECT_FALSE(fs::exists(out));
}

TEST_F(ExportTest, NonEmptyDirectoryNeedsForce) {
  const std::string recording = (dir_ / "rec.h5").string();
  write_synthetic(recording, Attention::kPatterns);
  const fs::path out = dir_ / "export";
  fs::create_directories(out);
  std::ofstream(out / "notes.txt") << "mine\n";
  EXPECT_EQ(error_message<InvalidInput>(
                [&] { export_recording(recording, ExportOptions{}.with_out_dir(out.string())); }),
            out.string() +
                " is not empty; pass --force to write recording.h5, README.md and explore.ipynb "
                "into it");
  EXPECT_EQ(listing(out), std::set<std::string>{"notes.txt"});

  const std::string file = (dir_ / "file").string();
  std::ofstream(file) << "x";
  EXPECT_EQ(error_message<InvalidInput>([&] {
              export_recording(recording, ExportOptions{}.with_out_dir(file).with_force(true));
            }),
            file + " exists and is not a directory");

  // --force replaces the export's files, twice over, and leaves the user's alone.
  for (int round = 0; round < 2; ++round) {
    export_recording(recording, ExportOptions{}.with_out_dir(out.string()).with_force(true));
  }
  EXPECT_EQ(listing(out),
            (std::set<std::string>{"README.md", "explore.ipynb", "notes.txt", "recording.h5"}));
  EXPECT_EQ(read_file(out / "notes.txt"), "mine\n");

  // An existing empty directory is fine without --force.
  fs::create_directories(dir_ / "empty");
  export_recording(recording, ExportOptions{}.with_out_dir((dir_ / "empty").string()));
  EXPECT_EQ(listing(dir_ / "empty"), kExportFiles);
}

TEST_F(ExportTest, CliErrorsNameThePath) {
  const std::string recording = (dir_ / "rec.h5").string();
  write_synthetic(recording, Attention::kNeither);
  const fs::path out = dir_ / "export";
  fs::create_directories(out);
  std::ofstream(out / "keep.txt") << "x";
  const std::string missing = (dir_ / "missing.h5").string();
  for (const auto& [args, path] : std::vector<std::pair<std::string, std::string>>{
           {"export " + missing + " --out " + (dir_ / "new").string(), missing},
           {"export " + recording + " --out " + out.string(), out.string()}}) {
    auto r = cli(args);
    EXPECT_EQ(r.status, 1) << args << "\n" << r.output;
    EXPECT_THAT(r.output, HasSubstr("headscope: error: " + path)) << args;
  }
  EXPECT_FALSE(fs::exists(dir_ / "new"));
  auto forced = cli("export " + recording + " --out " + out.string() + " --force");
  EXPECT_EQ(forced.status, 0) << forced.output;
  EXPECT_THAT(cli("export " + recording).output, HasSubstr("--out is required"));
}

}  // namespace
}  // namespace headscope
