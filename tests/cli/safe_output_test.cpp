// Output files against failing, killed and concurrent commands, the ways a user could lose
// data or get a silently wrong file (a kill during the first run once left a file with no
// runs): inputs are checked before any file is touched, a replaced file is swapped in only when
// complete, a file another process has open is never truncated or replaced, and every command
// that writes into an existing file refuses one recorded from another model.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/base/error.h"
#include "core/store/recording_reader.h"
#include "tests/support/fixtures.h"
#include "tests/support/shell.h"
#include "tests/support/temp_dir_test.h"

namespace headscope {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// This process reads files a recorder is writing (HDF5 reads the variable once, at start; see
// cli_test.cpp). Commands that must see HDF5's locks run under `with_locks`.
const bool kNoHdf5FileLocks = setenv("HDF5_USE_FILE_LOCKING", "FALSE", 1) == 0;
const std::string with_locks = "env -u HDF5_USE_FILE_LOCKING ";

test::ShellResult run(const std::string& args) {
  return test::shell(with_locks + HEADSCOPE_CLI + " " + args);
}

bool has_h5py() {
  return std::system("/usr/bin/python3 -c 'import h5py' 2>/dev/null") == 0;
}

std::string bytes_of(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// One error line, exit status 1.
void expect_one_line_error(const test::ShellResult& r, const std::string& what) {
  EXPECT_EQ(r.status, 1) << what << "\n" << r.output;
  EXPECT_THAT(r.output, StartsWith("headscope: error: ")) << what;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << what << "\n" << r.output;
}

class SafeOutput : public test::TempDirTest {
 protected:
  const std::string llama = test::fixture("hf-tiny/llama");

  // Names in the test directory other than `keep`: temporaries a command left.
  std::vector<std::string> leftovers(const std::vector<std::string>& keep) const {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir_)) {
      const std::string name = entry.path().filename().string();
      if (std::find(keep.begin(), keep.end(), name) == keep.end()) names.push_back(name);
    }
    return names;
  }

  std::string record_llama(const std::string& name, const std::string& tokens = "1,2,3") {
    const std::string out = path(name);
    auto r = run("record " + llama + " --tokens " + tokens + " --out " + out + " --quiet");
    EXPECT_EQ(r.status, 0) << r.output;
    return out;
  }

  // A llama-config directory for --random-weights whose shape differs from hf-tiny/llama's.
  std::string eight_head_llama() const {
    const std::string dir = path("llama-8-heads");
    fs::create_directories(dir);
    std::ifstream in(llama + "/config.json");
    std::string text{std::istreambuf_iterator<char>(in), {}};
    const auto replace = [&](const std::string& from, const std::string& to) {
      const size_t at = text.find(from);
      ASSERT_NE(at, std::string::npos) << from;
      text.replace(at, from.size(), to);
    };
    replace("\"num_attention_heads\": 4", "\"num_attention_heads\": 8");
    replace("\"head_dim\": 16", "\"head_dim\": 8");
    std::ofstream(dir + "/config.json") << text;
    return dir;
  }

  // A lines file for record --tokens-file: `runs` runs of `length` tokens.
  std::string tokens_file(const std::string& name, int runs, int length) const {
    const std::string file = path(name);
    std::ofstream out(file);
    for (int r = 0; r < runs; ++r) {
      for (int i = 0; i < length; ++i) out << (i ? "," : "") << (i * 7 + r) % 512;
      out << "\n";
    }
    return file;
  }
};

TEST_F(SafeOutput, ForceWithATokenOutsideTheVocabularyLeavesTheOldFile) {
  const std::string precious = record_llama("precious.h5");
  const std::string before = bytes_of(precious);
  auto r = run("record " + llama + " --tokens 1,2,999 --out " + precious + " --force");
  expect_one_line_error(r, "--tokens 1,2,999");
  EXPECT_THAT(r.output, HasSubstr("--tokens: token 2 is id 999, outside the vocabulary [0, 512)"));
  EXPECT_TRUE(bytes_of(precious) == before);
  EXPECT_EQ(leftovers({"precious.h5"}), std::vector<std::string>{});
}

TEST_F(SafeOutput, BadLaterLineOfATokensFileFailsBeforeAnyRun) {
  const std::string existing = record_llama("existing.h5");
  const std::string before = bytes_of(existing);
  const std::string file = path("runs.txt");
  for (const auto& [third_line, expected] : std::vector<std::pair<std::string, std::string>>{
           {"7,999", file + ":3: token 1 is id 999, outside the vocabulary"},
           {"7,x", file + ":3: 'x' is not a token id"}}) {
    std::ofstream(file) << "1,2,3\n\n4,5,6\n" << third_line << "\n";
    // The blank line is skipped but counted: the bad line is line 4.
    std::string wanted = expected;
    wanted.replace(wanted.find(":3:"), 3, ":4:");
    for (const std::string& target : {path("new.h5"), existing}) {
      for (const std::string mode : {"", " --append", " --force"}) {
        auto r = run("record " + llama + " --tokens-file " + file + " --out " + target + mode);
        expect_one_line_error(r, third_line + mode);
        EXPECT_THAT(r.output, HasSubstr(wanted)) << mode;
      }
    }
    EXPECT_FALSE(fs::exists(path("new.h5")));
    EXPECT_TRUE(bytes_of(existing) == before);
    EXPECT_EQ(leftovers({"existing.h5", "runs.txt"}), std::vector<std::string>{});
  }
}

TEST_F(SafeOutput, AppendRefusesARecordingOfAnotherModel) {
  const std::string out = record_llama("llama.h5");
  const std::string before = bytes_of(out);
  const std::vector<std::pair<std::string, std::string>> others = {
      {test::fixture("hf-tiny/gpt2"), "this model is gpt2, 2 layers x 4 heads (4 kv)"},
      {test::fixture("hf-tiny/qwen3"), "this model is qwen3, 2 layers x 4 heads (2 kv), d_head 32"},
      {eight_head_llama() + " --random-weights", "this model is llama, 2 layers x 8 heads (2 kv)"},
  };
  for (const auto& [model, expected] : others) {
    auto r = run("record " + model + " --tokens 1,2,3 --append --out " + out);
    expect_one_line_error(r, model);
    EXPECT_THAT(r.output, HasSubstr(out + " holds a recording of llama, 2 layers x 4 heads (2 kv)"));
    EXPECT_THAT(r.output, HasSubstr(expected));
    EXPECT_TRUE(bytes_of(out) == before) << model;
  }
  // The same checkpoint under another path is the same model.
  const std::string copy = path("llama-copy");
  fs::copy(llama, copy, fs::copy_options::recursive);
  auto same = run("record " + copy + " --tokens 4,5 --append --out " + out);
  EXPECT_EQ(same.status, 0) << same.output;
  EXPECT_THAT(same.output, HasSubstr("(2 in the file)"));
}

TEST_F(SafeOutput, AnalysesRefuseToWriteIntoARecordingOfAnotherModel) {
  const std::string out = record_llama("llama.h5");
  const std::string before = bytes_of(out);
  const std::string zoo = test::fixture("zoo/ioi-2x4");
  for (const std::string& command :
       {"ablate " + zoo + " --task ioi --heads 0.1 --n 2 --quiet --append --out " + out,
        "importance " + zoo + " --task ioi --n 2 --quiet --append --out " + out,
        "sparse-eval " + zoo + " --length 48 --config " + path("none") + " --append --out " + out,
        "retrieval " + zoo + " --length 48 --depth 0 --max-new-tokens 1 --quiet --append --out " +
            out}) {
    auto r = run(command);
    expect_one_line_error(r, command);
    EXPECT_THAT(r.output, HasSubstr(out + " holds a recording of llama")) << command;
    EXPECT_THAT(r.output, HasSubstr("this model is llama, 2 layers x 4 heads (4 kv)")) << command;
    EXPECT_TRUE(bytes_of(out) == before) << command;
  }
}

TEST_F(SafeOutput, ExportRefusesAFileMixingTwoModels) {
  if (!has_h5py()) GTEST_SKIP() << "Debian's python3-h5py is not installed";
  const std::string mixed = record_llama("mixed.h5");
  const std::string other = path("other.h5");
  ASSERT_EQ(run("record " + eight_head_llama() + " --random-weights --tokens 1,2,3 --quiet --out " +
                other)
                .status,
            0);
  // What an older headscope's record --append made of two models.
  const std::string copy = "/usr/bin/python3 -c \"import h5py, sys; a = h5py.File(sys.argv[1], "
                           "'a'); b = h5py.File(sys.argv[2], 'r'); b.copy(b['/runs/0'], "
                           "a['/runs'], name='1')\" " +
                           mixed + " " + other;
  ASSERT_EQ(std::system(copy.c_str()), 0) << copy;
  auto r = run("export " + mixed + " --out " + path("export"));
  expect_one_line_error(r, "export");
  EXPECT_THAT(r.output, HasSubstr(mixed + ": /runs/1/blocks.0.attn.hook_pattern has 8 head "
                                          "entries on axis 0: the file's root attributes "
                                          "describe llama, 2 layers x 4 heads"));
  EXPECT_FALSE(fs::exists(path("export")));
}

// A python h5py writer holding a file open, as a running record --append or a notebook would.
class HeldOpen {
 public:
  explicit HeldOpen(const std::string& file) : ready_(file + ".held") {
    const std::string command =
        with_locks + "/usr/bin/python3 -c \"import h5py, sys; f = h5py.File(sys.argv[1], 'a'); " +
        "open(sys.argv[2], 'w').close(); sys.stdin.read()\" " + file + " " + ready_;
    pipe_ = popen(command.c_str(), "w");
    for (int i = 0; i < 200 && !fs::exists(ready_); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  ~HeldOpen() { release(); }
  bool holding() const { return fs::exists(ready_); }
  void release() {
    if (pipe_ != nullptr) pclose(pipe_);  // closes python's stdin: it exits
    pipe_ = nullptr;
    fs::remove(ready_);
  }

 private:
  std::string ready_;
  FILE* pipe_ = nullptr;
};

TEST_F(SafeOutput, AFileAnotherProcessHasOpenIsNeitherReplacedNorAppendedTo) {
  if (!has_h5py()) GTEST_SKIP() << "Debian's python3-h5py is not installed";
  const std::string out = record_llama("held.h5");
  const auto size = fs::file_size(out);
  {
    HeldOpen holder(out);
    ASSERT_TRUE(holder.holding());
    const std::string zoo = test::fixture("zoo/ioi-2x4");
    for (const std::string& command :
         {"record " + llama + " --tokens 4,5 --force --out " + out,
          "record " + llama + " --tokens 4,5 --append --out " + out,
          "ablate " + zoo + " --task ioi --heads 0.1 --n 2 --quiet --append --out " + out,
          "retrieval " + zoo + " --length 48 --depth 0 --max-new-tokens 1 --quiet --force --out " +
              out}) {
      auto r = run(command);
      expect_one_line_error(r, command);
      EXPECT_THAT(r.output, HasSubstr(out + ": another process has it open")) << command;
      EXPECT_EQ(fs::file_size(out), size) << command;
    }
    holder.release();
    EXPECT_EQ(leftovers({"held.h5"}), std::vector<std::string>{});
  }
  const RecordingReader reader = RecordingReader::open(out);
  ASSERT_EQ(reader.run_count(), 1);
  EXPECT_EQ(reader.read_tokens(0), (std::vector<int32_t>{1, 2, 3}));
}

// Starts `headscope record ...` in the background; HDF5's locks are off in it (inherited), so
// this process can read the files it writes.
pid_t start_record(const std::vector<std::string>& args) {
  const pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> argv{const_cast<char*>(HEADSCOPE_CLI), const_cast<char*>("record")};
    for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    execv(HEADSCOPE_CLI, argv.data());
    _exit(127);
  }
  return pid;
}

std::string staging_name(const std::string& target, pid_t pid) {
  return target + ".partial-" + std::to_string(pid);
}

// Committed runs in a file being written, or -1 while it cannot be read.
int64_t runs_in(const std::string& file) {
  try {
    return RecordingReader::open(file).run_count();
  } catch (const Error&) {
    return -1;
  }
}

TEST_F(SafeOutput, KillBeforeTheFirstRunLeavesNothingThatBlocksTheRerun) {
  const std::string out = path("new.h5");
  // One long run: the kill lands while it is being computed.
  const std::string tokens = tokens_file("long.txt", 1, 3000);
  for (const int signal : {SIGKILL, SIGINT}) {
    const pid_t pid =
        start_record({llama, "--tokens-file", tokens, "--out", out, "--allow-long-context",
                      "--quiet"});
    ASSERT_GT(pid, 0);
    const std::string staged = staging_name(out, pid);
    for (int i = 0; i < 1200 && !fs::exists(staged); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ASSERT_TRUE(fs::exists(staged)) << "the recorder never started writing";
    kill(pid, signal);
    int status = 0;
    waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the recorder finished before it was killed";
    EXPECT_FALSE(fs::exists(out)) << "signal " << signal;
    // Ctrl-C deletes the temporary too; a kill cannot.
    EXPECT_EQ(fs::exists(staged), signal == SIGKILL);
    // The rerun needs no --force, and the leftover temporary does not disturb it.
    auto again = run("record " + llama + " --tokens 1,2,3 --quiet --out " + out);
    EXPECT_EQ(again.status, 0) << again.output;
    EXPECT_EQ(RecordingReader::open(out).run_count(), 1);
    fs::remove(out);
    fs::remove(staged);
  }
}

TEST_F(SafeOutput, InterruptedForceKeepsTheOldFileAndTheCompletedRunsBesideIt) {
  const std::string out = record_llama("old.h5");
  const std::string before = bytes_of(out);
  const std::string tokens = tokens_file("runs.txt", 12, 1500);
  for (const int signal : {SIGKILL, SIGINT}) {
    const pid_t pid = start_record({llama, "--tokens-file", tokens, "--out", out, "--force",
                                    "--allow-long-context", "--quiet"});
    ASSERT_GT(pid, 0);
    const std::string staged = staging_name(out, pid);
    int64_t seen = -1;
    for (int i = 0; i < 1200 && seen < 1; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      seen = runs_in(staged);
    }
    ASSERT_GE(seen, 1) << "no run completed within 60 s";
    kill(pid, signal);
    int status = 0;
    waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the recorder finished before it was killed";

    EXPECT_TRUE(bytes_of(out) == before) << "signal " << signal;
    // The temporary is a readable recording of every completed run.
    const RecordingReader partial = RecordingReader::open(staged);
    EXPECT_GE(partial.run_count(), seen);
    EXPECT_LT(partial.run_count(), 12);
    EXPECT_EQ(partial.read_tokens(0).size(), 1500u);
  }
  // Leftovers disturb nothing: --append and --force still work, and leave no temporary.
  const std::vector<std::string> left = leftovers({"old.h5", "runs.txt"});
  EXPECT_EQ(left.size(), 2u);
  EXPECT_EQ(run("record " + llama + " --tokens 7,8 --append --quiet --out " + out).status, 0);
  EXPECT_EQ(RecordingReader::open(out).run_count(), 2);
  EXPECT_EQ(run("record " + llama + " --tokens 7,8 --force --quiet --out " + out).status, 0);
  EXPECT_EQ(RecordingReader::open(out).run_count(), 1);
  EXPECT_EQ(leftovers({"old.h5", "runs.txt"}), left);
}

}  // namespace
}  // namespace headscope
