// Writer-level guarantees behind the commands' --out/--force/--append (core/store/staged_file.h,
// core/store/same_model.h, RecordingWriter::open): where a file is written, when it appears at its
// name, what a failure or a lock leaves, and which files count as one model's.
#include <hdf5.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/base/error.h"
#include "core/store/analysis_writer.h"
#include "core/store/recording_reader.h"
#include "core/store/recording_writer.h"
#include "core/store/same_model.h"
#include "core/store/staged_file.h"
#include "tests/support/error_message.h"
#include "tests/support/model_summary.h"
#include "tests/support/temp_dir_test.h"

namespace headscope {
namespace {

namespace fs = std::filesystem;
using test::error_message;
using ::testing::HasSubstr;

ModelSummary model(int64_t layers = 2, int64_t heads = 4) {
  ModelSummary m = test::made_up_model(layers, heads, "llama", 16, "/models/a");
  m.config_json = R"({"model_type": "llama", "num_attention_heads": 4})";
  return m;
}

std::string text_of(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

void add_run(RecordingWriter& writer, std::vector<int32_t> tokens = {1, 2, 3}) {
  RunWriter run = writer.begin_run();
  run.write_tokens(tokens);
  run.commit();
}

class SafeOutputCore : public test::TempDirTest {
 protected:
  std::vector<std::string> files() const {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir_)) {
      names.push_back(entry.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }
  std::string staged(const std::string& name) const { return staging_path(path(name)); }
};

TEST_F(SafeOutputCore, NewRecordingAppearsAtItsNameWhenItsFirstRunCommits) {
  const std::string out = path("new.h5");
  {
    RecordingWriter writer = RecordingWriter::open(out, model(), OutputMode::kNew);
    EXPECT_EQ(files(), std::vector<std::string>{"new.h5.partial-" + std::to_string(::getpid())});
    add_run(writer);
    EXPECT_EQ(files(), std::vector<std::string>{"new.h5"});
    add_run(writer, {4, 5});
    writer.finish();
  }
  EXPECT_EQ(RecordingReader::open(out).run_count(), 2);

  // A writer that fails before its first run leaves nothing at all.
  {
    RecordingWriter writer = RecordingWriter::open(path("never.h5"), model(), OutputMode::kNew);
    RunWriter run = writer.begin_run();
    run.write_tokens({1});
  }
  EXPECT_EQ(files(), std::vector<std::string>{"new.h5"});

  // kNew never overwrites, and says so before making anything.
  EXPECT_THAT(error_message<InvalidInput>(
                  [&] { RecordingWriter::open(out, model(), OutputMode::kNew); }),
              HasSubstr(out + " exists"));
  EXPECT_THAT(error_message<InvalidInput>([&] { RecordingWriter::create(out, model()); }),
              HasSubstr(out + " exists"));
  EXPECT_EQ(files(), std::vector<std::string>{"new.h5"});
}

TEST_F(SafeOutputCore, ReplacementSwapsInOnlyWhenFinished) {
  const std::string out = path("old.h5");
  {
    RecordingWriter writer = RecordingWriter::open(out, model(), OutputMode::kNew);
    add_run(writer, {9});
  }
  const std::string before = text_of(out);
  {
    // Unfinished (an exception, a failed run): the old file stays and the temporary goes.
    RecordingWriter writer = RecordingWriter::open(out, model(3, 4), OutputMode::kReplace);
    add_run(writer);
    EXPECT_TRUE(text_of(out) == before);
  }
  EXPECT_TRUE(text_of(out) == before);
  EXPECT_EQ(files(), std::vector<std::string>{"old.h5"});
  {
    RecordingWriter writer = RecordingWriter::open(out, model(3, 4), OutputMode::kReplace);
    add_run(writer);
    add_run(writer);
    EXPECT_TRUE(text_of(out) == before);
    writer.finish();
  }
  const RecordingReader reader = RecordingReader::open(out);
  EXPECT_EQ(reader.run_count(), 2);
  EXPECT_EQ(reader.model().n_layers, 3);
  EXPECT_EQ(files(), std::vector<std::string>{"old.h5"});
}

TEST_F(SafeOutputCore, StagedFilePublishNeverOverwritesANewTargetAndKeepsTheOutput) {
  const std::string out = path("x.h5");
  StagedFile staged(out, StagedFile::Target::kNew);
  std::ofstream(staged.path()) << "new";
  std::ofstream(out) << "made meanwhile";
  const std::string message = error_message<IoError>([&] { staged.publish(); });
  EXPECT_THAT(message, HasSubstr(out + " appeared while this command ran"));
  EXPECT_THAT(message, HasSubstr("the output is kept as " + staged.path()));
  EXPECT_EQ(text_of(out), "made meanwhile");
  EXPECT_EQ(text_of(staging_path(out)), "new");

  EXPECT_THAT(error_message<IoError>([&] { StagedFile(path("no/dir/x.h5"), StagedFile::Target::kNew); }),
              HasSubstr("directory " + path("no/dir") + " does not exist"));
}

// Ctrl-C in the middle: the exit status of a child that makes a StagedFile, writes its
// temporary, and interrupts itself.
int interrupted_child(const std::string& target, StagedFile::Target kind, bool keep) {
  const pid_t child = fork();
  if (child == 0) {
    StagedFile staged(target, kind);
    std::ofstream(staged.path()) << "partial";
    if (keep) staged.keep_if_interrupted();
    std::raise(SIGINT);
    _exit(0);
  }
  int status = 0;
  waitpid(child, &status, 0);
  return status;
}

TEST_F(SafeOutputCore, CtrlCDeletesATemporaryUnlessItHoldsCompletedWork) {
  const std::string out = path("x.h5");
  int status = interrupted_child(out, StagedFile::Target::kNew, false);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGINT) << status;
  EXPECT_EQ(files(), std::vector<std::string>{});

  std::ofstream(out) << "old";
  status = interrupted_child(out, StagedFile::Target::kReplace, true);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGINT) << status;
  EXPECT_EQ(text_of(out), "old");
  EXPECT_EQ(files().size(), 2u);
}

// A child process holding `file` open through HDF5 (its lock) until `release` is written to.
class ChildHolding {
 public:
  explicit ChildHolding(const std::string& file, unsigned flags) {
    int ready[2], release[2];
    EXPECT_EQ(pipe(ready), 0);
    EXPECT_EQ(pipe(release), 0);
    pid_ = fork();
    if (pid_ == 0) {
      // Only the parent's end may keep the release pipe open, or the read never ends.
      close(release[1]);
      close(ready[0]);
      const hid_t id = H5Fopen(file.c_str(), flags, H5P_DEFAULT);
      const char ok = id >= 0 ? 'y' : 'n';
      (void)!write(ready[1], &ok, 1);
      char byte;
      (void)!read(release[0], &byte, 1);
      _exit(0);
    }
    close(ready[1]);
    close(release[0]);
    release_ = release[1];
    char ok = 'n';
    (void)!read(ready[0], &ok, 1);
    close(ready[0]);
    holding_ = ok == 'y';
  }
  ~ChildHolding() {
    close(release_);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
  bool holding() const { return holding_; }

 private:
  pid_t pid_ = -1;
  int release_ = -1;
  bool holding_ = false;
};

TEST_F(SafeOutputCore, AFileOpenInAnotherProcessIsNotTouched) {
  if (const char* locks = std::getenv("HDF5_USE_FILE_LOCKING");
      locks != nullptr && std::string(locks) == "FALSE") {
    GTEST_SKIP() << "HDF5_USE_FILE_LOCKING=FALSE: no lock to see";
  }
  const std::string out = path("held.h5");
  {
    RecordingWriter writer = RecordingWriter::open(out, model(), OutputMode::kNew);
    add_run(writer);
  }
  for (const unsigned flags : {H5F_ACC_RDONLY, H5F_ACC_RDWR}) {
    ChildHolding child(out, flags);
    ASSERT_TRUE(child.holding());
    // After the child's open, which may itself write (a writer marks the file open).
    const std::string before = text_of(out);
    const std::string expected = out + ": another process has it open";
    EXPECT_THAT(error_message<IoError>([&] { check_not_open_elsewhere(out); }),
                HasSubstr(expected));
    EXPECT_THAT(error_message<IoError>(
                    [&] { RecordingWriter::open(out, model(), OutputMode::kReplace); }),
                HasSubstr(expected));
    EXPECT_THAT(error_message<IoError>(
                    [&] { RecordingWriter::open(out, model(), OutputMode::kAppend); }),
                HasSubstr(expected));
    EXPECT_THAT(error_message<IoError>([&] { AnalysisWriter::begin(out, "x", model()); }),
                HasSubstr(expected));
    EXPECT_THAT(error_message<IoError>([&] { check_analysis_target(out, model()); }),
                HasSubstr(expected));
    EXPECT_TRUE(text_of(out) == before) << "flags " << flags;
  }
  EXPECT_EQ(files(), std::vector<std::string>{"held.h5"});
  EXPECT_EQ(RecordingReader::open(out).run_count(), 1);
  check_not_open_elsewhere(out);
}

TEST_F(SafeOutputCore, WhatCountsAsTheSameModel) {
  const ModelSummary a = model();
  ModelSummary moved = a;
  moved.model_path = "/elsewhere/a";
  moved.config_json = R"({"num_attention_heads": 4, "model_type": "llama",
                          "_name_or_path": "x", "transformers_version": "5.0"})";
  EXPECT_TRUE(same_model(a, moved));
  ModelSummary old_file = a;
  old_file.config_json = "";
  EXPECT_TRUE(same_model(old_file, a));

  ModelSummary config = a;
  config.config_json = R"({"model_type": "llama", "num_attention_heads": 4, "rope_theta": 5})";
  EXPECT_FALSE(same_model(a, config));
  EXPECT_THAT(error_message<InvalidInput>([&] { check_same_model("f.h5", a, config); }),
              HasSubstr("(same family and shape, another config.json)"));
  for (int64_t ModelSummary::*field :
       {&ModelSummary::n_layers, &ModelSummary::n_heads, &ModelSummary::n_kv_heads,
        &ModelSummary::d_head, &ModelSummary::d_model, &ModelSummary::vocab_size}) {
    ModelSummary other = a;
    other.*field += 1;
    EXPECT_FALSE(same_model(a, other));
  }
  ModelSummary family = a;
  family.family = "qwen2";
  EXPECT_EQ(error_message<InvalidInput>([&] { check_same_model("f.h5", a, family); }),
            "f.h5 holds a recording of llama, 2 layers x 4 heads (4 kv), d_head 4, d_model 16, "
            "vocab 16, from /models/a; this model is qwen2, 2 layers x 4 heads (4 kv), d_head 4, "
            "d_model 16, vocab 16, from /models/a; write to another file");
}

TEST_F(SafeOutputCore, AppendAndAnalysesRefuseAnotherModelLeavingTheFile) {
  const std::string out = path("rec.h5");
  {
    RecordingWriter writer = RecordingWriter::open(out, model(), OutputMode::kNew);
    add_run(writer);
  }
  const std::string before = text_of(out);
  ModelSummary other = model();
  other.n_kv_heads = 2;
  const std::string expected = out + " holds a recording of llama, 2 layers x 4 heads (4 kv)";
  EXPECT_THAT(error_message<InvalidInput>([&] { RecordingWriter::open_append(out, other); }),
              HasSubstr(expected));
  EXPECT_THAT(error_message<InvalidInput>([&] { AnalysisWriter::begin(out, "x", other); }),
              HasSubstr(expected));
  EXPECT_THAT(error_message<InvalidInput>([&] { check_analysis_target(out, other); }),
              HasSubstr(expected));
  EXPECT_TRUE(text_of(out) == before);
}

TEST_F(SafeOutputCore, RunsOfAnotherModelAreFound) {
  const std::string out = path("mixed.h5");
  {
    RecordingWriter writer = RecordingWriter::open(out, model(), OutputMode::kNew);
    add_run(writer);
    check_runs_match_model(out);
    RunWriter run = writer.begin_run();
    run.write_tokens({1, 2});
    const std::vector<float> pattern(8 * 2 * 2, 0.5f);
    run.write_array("blocks.0.attn.hook_pattern", DType::kF32, {8, 2, 2}, DType::kF32,
                    pattern.data());
    run.commit();
  }
  EXPECT_THAT(error_message<InvalidInput>([&] { check_runs_match_model(out); }),
              HasSubstr(out + ": /runs/1/blocks.0.attn.hook_pattern has 8 head entries on axis 0: "
                              "the file's root attributes describe llama, 2 layers x 4 heads"));
  const std::string tokens = path("tokens.h5");
  {
    RecordingWriter writer = RecordingWriter::open(tokens, model(), OutputMode::kNew);
    add_run(writer, {1, 16});
  }
  EXPECT_THAT(error_message<InvalidInput>([&] { check_runs_match_model(tokens); }),
              HasSubstr(tokens + ": /runs/0/tokens holds id 16, outside the vocabulary of 16"));
}

}  // namespace
}  // namespace headscope
