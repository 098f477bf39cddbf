// Truncated and byte-flipped recordings: every read either succeeds or throws a headscope::Error,
// never crashes, aborts or hangs. HDF5 1.10 does crash and loop inside the library on such files
// (see core/store/recording_structure_check.h); each case runs in a child process with a deadline, so
// a crash or a hang fails the test instead of the whole suite or CI.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "core/base/error.h"
#include "core/store/recording_reader.h"
#include "core/store/recording_writer.h"
#include "fuzz/read_whole_recording.h"
#include "tests/support/error_message.h"
#include "tests/support/model_summary.h"
#include "tests/support/temp_dir_test.h"

namespace headscope {
namespace {

using ::testing::HasSubstr;

// A child's whole read, and what became of it.
enum class Outcome { kReadOrTypedError, kOtherException, kCrashed, kHung };

constexpr double kCheckTimeoutS = 2.0;
constexpr auto kCaseDeadline = std::chrono::seconds(10);

Outcome read_in_child(const std::vector<char>& bytes) {
  const pid_t child = ::fork();
  if (child == 0) {
    try {
      const RecordingReader reader =
          RecordingReader::open_image(bytes.data(), bytes.size(), "corrupt.h5", kCheckTimeoutS);
      read_whole_recording(reader);
    } catch (const Error&) {
    } catch (...) {
      ::_exit(3);
    }
    ::_exit(0);
  }
  const auto deadline = std::chrono::steady_clock::now() + kCaseDeadline;
  int status = 0;
  while (::waitpid(child, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(child, SIGKILL);
      ::waitpid(child, &status, 0);
      return Outcome::kHung;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (WIFSIGNALED(status)) return Outcome::kCrashed;
  return WEXITSTATUS(status) == 0 ? Outcome::kReadOrTypedError : Outcome::kOtherException;
}

class RecordingCorruptionTest : public test::TempDirTest {
 protected:
  // One run with tokens, text, attributes, a float16 pattern and statistics: every kind of
  // object the reader meets (variable-length strings, dimension scales, chunked datasets).
  std::vector<char> small_recording() {
    const std::string file = path("small.h5");
    {
      RecordingWriter writer = RecordingWriter::create(file, test::made_up_model(1, 2));
      RunWriter run = writer.begin_run();
      run.write_tokens({1, 2, 3, 4});
      run.write_token_text({"a", "b", "c", "d"});
      run.set_attribute(kAttrPrompt, "abcd");
      const std::vector<float> pattern(2 * 4 * 4, 0.25f);
      run.write_array("blocks.0.attn.hook_pattern", DType::kF16, {2, 4, 4}, DType::kF32,
                      pattern.data());
      run.write_array("attention_stats/entropy", DType::kF32, {1, 2, 4}, DType::kF32,
                      pattern.data());
      run.set_attribute(kAttentionStats, kAttrBlockSize, 2);
      run.commit();
    }
    std::ifstream in(file, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
  }

  void expect_survives(const std::vector<char>& bytes, const std::string& what) {
    const Outcome outcome = read_in_child(bytes);
    EXPECT_EQ(outcome, Outcome::kReadOrTypedError)
        << what << ": " << (outcome == Outcome::kCrashed ? "crashed" : outcome == Outcome::kHung ? "hung" : "threw another exception");
  }
};

TEST_F(RecordingCorruptionTest, TheValidFileReadsWithoutErrors) {
  const std::vector<char> bytes = small_recording();
  const RecordingReader reader = RecordingReader::open_image(bytes.data(), bytes.size(), "small.h5");
  // Only the parts that do not apply to this file are rejected: read_i32 of float datasets,
  // read_f32 of integer ones and of token_text, and token_text's int slice.
  const int rejected = read_whole_recording(reader);
  EXPECT_LT(rejected, 20);
  EXPECT_EQ(reader.read_tokens(0), (std::vector<int32_t>{1, 2, 3, 4}));
  EXPECT_EQ(reader.dimensions(0, "blocks.0.attn.hook_pattern"),
            (std::vector<std::string>{"head", "query", "key"}));
}

// Flipped bytes across the whole file: densely in the first 4 KB, where the superblock, the
// root group and most object headers are, and sparsely after it (fuzz/ covers the rest).
TEST_F(RecordingCorruptionTest, FlippedBytesEndInATypedErrorOrAValidRead) {
  const std::vector<char> bytes = small_recording();
  for (size_t offset = 0; offset < bytes.size(); offset += offset < 4096 ? 53 : 1499) {
    std::vector<char> flipped = bytes;
    flipped[offset] = static_cast<char>(flipped[offset] ^ 0xff);
    expect_survives(flipped, "byte " + std::to_string(offset) + " flipped");
  }
}

TEST_F(RecordingCorruptionTest, TruncatedFilesEndInATypedError) {
  const std::vector<char> bytes = small_recording();
  for (size_t length : {size_t{0}, size_t{7}, size_t{96}, size_t{512}, bytes.size() / 4,
                        bytes.size() / 2, bytes.size() - 100, bytes.size() - 1}) {
    expect_survives({bytes.begin(), bytes.begin() + static_cast<ptrdiff_t>(length)},
                    "truncated to " + std::to_string(length) + " bytes");
  }
  std::vector<char> empty;
  EXPECT_THAT(test::error_message<IoError>([&] {
                RecordingReader::open_image(empty.data(), 0, "empty.h5");
              }),
              HasSubstr("empty.h5"));
}

}  // namespace
}  // namespace headscope
