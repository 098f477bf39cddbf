// Every command that reads a recording, given a damaged one: one error line naming the file and
// exit status 1, nothing written, the input untouched — never a crash, a hang or HDF5's error
// stack. The reader-level cases (each offset, in a child) are in
// tests/core/recording_corruption_test.cpp; this is what a user sees from the binary.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/fixtures.h"
#include "tests/support/shell.h"
#include "tests/support/temp_dir_test.h"

namespace headscope {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// A damaged file can only hang inside HDF5 past the structure check's deadline (60 s); the shell's
// timeout turns a hang into a failure of this test, not of the whole suite.
test::ShellResult run(const std::string& args) {
  return test::shell("timeout 120 " + std::string(HEADSCOPE_CLI) + " " + args);
}

std::string bytes_of(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

class CorruptInput : public test::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    good_ = path("good.h5");
    auto r = run("record " + test::fixture("hf-tiny/llama") +
                 " --tokens 1,2,3,4,5,6,7,8 --attention both --quiet --out " + good_);
    ASSERT_EQ(r.status, 0) << r.output;
  }

  // Damaged copies of the good recording, each named for what was done to it.
  std::vector<std::string> damaged_files() const {
    const std::string good = bytes_of(good_);
    std::vector<std::pair<std::string, std::string>> cases = {
        {"empty.h5", ""},
        {"text.h5", "this is not an HDF5 file\n"},
        {"truncated-4k.h5", good.substr(0, 4096)},
        {"truncated-half.h5", good.substr(0, good.size() / 2)},
        {"truncated-last-byte.h5", good.substr(0, good.size() - 1)},
        {"no-signature.h5", std::string(8, '\0') + good.substr(8)},
    };
    std::vector<std::string> files;
    for (const auto& [name, bytes] : cases) {
      write_bytes(path(name), bytes);
      files.push_back(path(name));
    }
    return files;
  }

  std::string good_;
};

void expect_refused(const test::ShellResult& r, const std::string& file, const std::string& what) {
  EXPECT_EQ(r.status, 1) << what << "\n" << r.output;
  EXPECT_THAT(r.output, StartsWith("headscope: error: ")) << what;
  EXPECT_THAT(r.output, HasSubstr(file)) << what;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << what << "\n" << r.output;
}

TEST_F(CorruptInput, ExportRefusesEveryDamagedRecording) {
  for (const std::string& file : damaged_files()) {
    const std::string before = bytes_of(file);
    const std::string out = path("export-" + fs::path(file).stem().string());
    auto r = run("export " + file + " --out " + out);
    expect_refused(r, file, "export " + file);
    EXPECT_FALSE(fs::exists(out)) << file;
    EXPECT_TRUE(bytes_of(file) == before) << file;
  }
}

TEST_F(CorruptInput, SparseConfigRefusesEveryDamagedRecording) {
  for (const std::string& file : damaged_files()) {
    const std::string out = path("config-" + fs::path(file).stem().string());
    auto r = run("sparse-config " + file + " --format headscope --out " + out + " --quiet");
    expect_refused(r, file, "sparse-config " + file);
    EXPECT_FALSE(fs::exists(out)) << file;
  }
}

TEST_F(CorruptInput, RecordAppendLeavesEveryDamagedRecordingAsItWas) {
  for (const std::string& file : damaged_files()) {
    const std::string before = bytes_of(file);
    auto r = run("record " + test::fixture("hf-tiny/llama") +
                 " --tokens 1,2,3 --quiet --append --out " + file);
    expect_refused(r, file, "record --append " + file);
    EXPECT_TRUE(bytes_of(file) == before) << file;
  }
}

// The undamaged file passes all three, so the refusals above are about the damage.
TEST_F(CorruptInput, TheUndamagedRecordingIsAccepted) {
  EXPECT_EQ(run("export " + good_ + " --out " + path("export")).status, 0);
  EXPECT_EQ(
      run("sparse-config " + good_ + " --format headscope --out " + path("config") + " --quiet")
          .status,
      0);
  EXPECT_EQ(run("record " + test::fixture("hf-tiny/llama") +
                " --tokens 1,2,3 --quiet --append --out " + good_)
                .status,
            0);
}

}  // namespace
}  // namespace headscope
