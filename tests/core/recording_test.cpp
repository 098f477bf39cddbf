#include <gtest/gtest.h>
#include <hdf5.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "core/base/error.h"
#include "core/store/recording_reader.h"
#include "core/store/recording_writer.h"
#include "tests/support/error_message.h"
#include "tests/support/temp_dir_test.h"
#include "tests/support/tolerance.h"

namespace headscope {
namespace {

namespace fs = std::filesystem;

constexpr char kPattern[] = "blocks.1.attn.hook_pattern";     // float16 [4, 24, 24]
constexpr char kScores[] = "blocks.1.attn.hook_attn_scores";  // the same values as float32
constexpr char kResid[] = "blocks.0.hook_resid_pre";          // float32 [4, 32]
constexpr char kWide[] = "wide";  // float16 [2, 600, 40]: chunks clipped to [1, 512, 40]
constexpr int64_t kHeads = 4;
constexpr int64_t kContext = 24;

const std::vector<std::string> kRunText = {"Hello", "Ġcafé", "Ġ日本", "!"};

ModelSummary tiny_model() {
  ModelSummary model;
  model.family = "gpt2";
  model.n_layers = 2;
  model.n_heads = 4;
  model.n_kv_heads = 4;
  model.d_head = 8;
  model.d_model = 32;
  model.vocab_size = 50257;
  model.model_path = "/models/tiny-gpt2";
  model.config_json = R"({"model_type": "gpt2", "n_layer": 2, "note": "naïve"})";
  return model;
}

std::vector<int32_t> run_tokens(int run) {
  return {15496, 40304 + run, 33768, 0};
}

// Values in [0.01, 0.99], away from zero so that float16's relative error stays below 2^-11.
std::vector<float> values(size_t count, int run) {
  std::vector<float> out(count);
  for (size_t i = 0; i < count; ++i) {
    out[i] = 0.5f + 0.49f * std::sin(0.37f * static_cast<float>(i) + static_cast<float>(run));
  }
  return out;
}

void write_run(RecordingWriter& writer, int run) {
  RunWriter run_writer = writer.begin_run();
  run_writer.write_tokens(run_tokens(run));
  run_writer.write_token_text(kRunText);
  run_writer.set_attribute(kAttrPrompt, "Hello café " + std::to_string(run));
  run_writer.set_attribute(kAttrTask, "induction");
  const std::vector<float> pattern = values(kHeads * kContext * kContext, run);
  run_writer.write_array(kPattern, DType::kF16, {kHeads, kContext, kContext}, DType::kF32,
                         pattern.data());
  run_writer.write_array(kScores, DType::kF32, {kHeads, kContext, kContext}, DType::kF32,
                         pattern.data());
  run_writer.write_array(kResid, DType::kF32, {4, 32}, DType::kF32, values(4 * 32, run).data());
  run_writer.write_array(kWide, DType::kF16, {2, 600, 40}, DType::kF32,
                         values(2 * 600 * 40, run).data());
  run_writer.commit();
}

class RecordingTest : public test::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    path_ = path("recording.h5");
  }

  void write_two_runs() {
    RecordingWriter writer = RecordingWriter::create(path_, tiny_model());
    write_run(writer, 0);
    write_run(writer, 1);
  }

  // Link names in /runs, partial runs included, through the plain HDF5 API.
  std::vector<std::string> raw_run_links() const {
    std::vector<std::string> names;
    const hid_t file = H5Fopen(path_.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    EXPECT_GE(file, 0);
    H5Literate_by_name(
        file, "/runs", H5_INDEX_NAME, H5_ITER_INC, nullptr,
        [](hid_t, const char* name, const H5L_info_t*, void* out) -> herr_t {
          static_cast<std::vector<std::string>*>(out)->emplace_back(name);
          return 0;
        },
        &names, H5P_DEFAULT);
    H5Fclose(file);
    return names;
  }

  std::string path_;
};

using test::error_message;

TEST_F(RecordingTest, RoundTripsTwoRuns) {
  {
    RecordingWriter writer = RecordingWriter::create(path_, tiny_model());
    EXPECT_EQ(writer.run_count(), 0);
    write_run(writer, 0);
    write_run(writer, 1);
    EXPECT_EQ(writer.run_count(), 2);
  }
  const RecordingReader reader = RecordingReader::open(path_);
  EXPECT_EQ(reader.format_version(), kFormatVersion);
  const ModelSummary model = reader.model();
  const ModelSummary expected = tiny_model();
  EXPECT_EQ(model.family, expected.family);
  EXPECT_EQ(model.n_layers, expected.n_layers);
  EXPECT_EQ(model.n_heads, expected.n_heads);
  EXPECT_EQ(model.n_kv_heads, expected.n_kv_heads);
  EXPECT_EQ(model.d_head, expected.d_head);
  EXPECT_EQ(model.d_model, expected.d_model);
  EXPECT_EQ(model.vocab_size, expected.vocab_size);
  EXPECT_EQ(model.model_path, expected.model_path);
  EXPECT_EQ(model.config_json, expected.config_json);
  ASSERT_EQ(reader.run_count(), 2);

  for (int run = 0; run < 2; ++run) {
    SCOPED_TRACE(run);
    EXPECT_EQ(reader.read_tokens(run), run_tokens(run));
    EXPECT_EQ(reader.read_token_text(run), kRunText);
    EXPECT_EQ(reader.attribute(run, kAttrPrompt), "Hello café " + std::to_string(run));
    EXPECT_EQ(reader.attribute(run, kAttrTask), "induction");
    EXPECT_EQ(reader.datasets(run),
              (std::vector<std::string>{kResid, kScores, kPattern, "token_text", "tokens", kWide}));
    EXPECT_EQ(reader.shape(run, kPattern), (std::vector<int64_t>{kHeads, kContext, kContext}));
    EXPECT_EQ(reader.shape(run, kResid), (std::vector<int64_t>{4, 32}));
    EXPECT_EQ(reader.read_f32(run, kResid), values(4 * 32, run));

    const std::vector<float> exact = values(kHeads * kContext * kContext, run);
    EXPECT_EQ(reader.read_f32(run, kScores), exact);
    const std::vector<float> rounded = reader.read_f32(run, kPattern);
    ASSERT_EQ(rounded.size(), exact.size());
    // Stored as float16, rounded to nearest: within u = 2^-11 of the value, or half the
    // subnormal spacing (2^-25) below float16's normal range.
    for (size_t i = 0; i < exact.size(); ++i) {
      ASSERT_LE(std::abs(rounded[i] - exact[i]), test::tol::kFloat16 * std::abs(exact[i]) + 0x1p-25)
          << i;
    }
  }
}

TEST_F(RecordingTest, ReadsOneHeadThroughHyperslab) {
  write_two_runs();
  const RecordingReader reader = RecordingReader::open(path_);
  const std::vector<float> all = reader.read_f32(1, kPattern);
  const std::vector<float> head =
      reader.read_f32_slice(1, kPattern, {2, 0, 0}, {1, kContext, kContext});
  const auto head_start = all.begin() + 2 * kContext * kContext;
  EXPECT_EQ(head, std::vector<float>(head_start, head_start + kContext * kContext));

  const std::vector<float> box = reader.read_f32_slice(1, kPattern, {1, 3, 5}, {2, 4, 6});
  ASSERT_EQ(box.size(), 2u * 4 * 6);
  for (int64_t h = 0; h < 2; ++h) {
    for (int64_t q = 0; q < 4; ++q) {
      for (int64_t k = 0; k < 6; ++k) {
        EXPECT_EQ(box[(h * 4 + q) * 6 + k], all[((1 + h) * kContext + 3 + q) * kContext + 5 + k]);
      }
    }
  }

  const std::string message = error_message<InvalidInput>([&] {
    reader.read_f32_slice(1, kPattern, {3, 0, 0}, {2, kContext, kContext});
  });
  EXPECT_NE(message.find(path_), std::string::npos) << message;
  EXPECT_NE(message.find("/runs/1/blocks.1.attn.hook_pattern"), std::string::npos) << message;
}

TEST_F(RecordingTest, AppendsRunToExistingFile) {
  write_two_runs();
  {
    RecordingWriter writer = RecordingWriter::open_append(path_, tiny_model());
    EXPECT_EQ(writer.run_count(), 2);
    write_run(writer, 2);
    EXPECT_EQ(writer.run_count(), 3);
  }
  const RecordingReader reader = RecordingReader::open(path_);
  ASSERT_EQ(reader.run_count(), 3);
  EXPECT_EQ(reader.read_tokens(2), run_tokens(2));
  EXPECT_EQ(reader.read_tokens(0), run_tokens(0));
  EXPECT_EQ(reader.model().family, "gpt2");
}

TEST_F(RecordingTest, UncommittedRunLeavesNoTrace) {
  {
    RecordingWriter writer = RecordingWriter::create(path_, tiny_model());
    write_run(writer, 0);
    {
      RunWriter abandoned = writer.begin_run();
      abandoned.write_tokens(run_tokens(1));
      abandoned.write_array(kResid, DType::kF32, {4, 32}, DType::kF32, values(4 * 32, 1).data());
    }
    EXPECT_EQ(writer.run_count(), 1);
    EXPECT_EQ(raw_run_links(), std::vector<std::string>{"0"});
    // The abandoned index is free again.
    write_run(writer, 2);
  }
  EXPECT_EQ(raw_run_links(), (std::vector<std::string>{"0", "1"}));
  const RecordingReader reader = RecordingReader::open(path_);
  EXPECT_EQ(reader.run_count(), 2);
  EXPECT_EQ(reader.read_tokens(1), run_tokens(2));
}

TEST_F(RecordingTest, AppendDeletesRunLeftPartialByACrash) {
  write_two_runs();
  {
    // What a killed recorder leaves: a partial group with some data in it.
    const hid_t file = H5Fopen(path_.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    ASSERT_GE(file, 0);
    const hid_t group = H5Gcreate2(file, "/runs/.partial_2", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    ASSERT_GE(group, 0);
    H5Gclose(group);
    H5Fclose(file);
  }
  EXPECT_EQ(RecordingReader::open(path_).run_count(), 2);
  {
    RecordingWriter writer = RecordingWriter::open_append(path_, tiny_model());
    EXPECT_EQ(raw_run_links(), (std::vector<std::string>{"0", "1"}));
    write_run(writer, 2);
  }
  EXPECT_EQ(raw_run_links(), (std::vector<std::string>{"0", "1", "2"}));
}

TEST_F(RecordingTest, KilledRecorderKeepsCommittedRuns) {
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    try {
      RecordingWriter writer = RecordingWriter::create(path_, tiny_model());
      write_run(writer, 0);
      RunWriter run = writer.begin_run();
      run.write_tokens(run_tokens(1));
      const std::vector<float> maps = values(8 * 512 * 512, 1);
      run.write_array(kPattern, DType::kF16, {8, 512, 512}, DType::kF32, maps.data());
    } catch (...) {
      _exit(1);
    }
    _exit(0);  // as if killed mid-run: no destructor runs and HDF5 never closes the file
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;

  {
    const RecordingReader reader = RecordingReader::open(path_);
    ASSERT_EQ(reader.run_count(), 1);
    EXPECT_EQ(reader.read_tokens(0), run_tokens(0));
    EXPECT_EQ(reader.read_f32(0, kScores), values(kHeads * kContext * kContext, 0));
  }
  {
    RecordingWriter writer = RecordingWriter::open_append(path_, tiny_model());
    write_run(writer, 1);
  }
  EXPECT_EQ(raw_run_links(), (std::vector<std::string>{"0", "1"}));
}

TEST_F(RecordingTest, RejectsNewerFormatVersion) {
  write_two_runs();
  {
    const hid_t file = H5Fopen(path_.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    ASSERT_GE(file, 0);
    const hid_t attribute = H5Aopen(file, kAttrFormat, H5P_DEFAULT);
    ASSERT_GE(attribute, 0);
    const int64_t newer = 2;
    EXPECT_GE(H5Awrite(attribute, H5T_NATIVE_INT64, &newer), 0);
    H5Aclose(attribute);
    H5Fclose(file);
  }
  const std::string expected =
      path_ + " was written by format version 2; this headscope reads version 1";
  EXPECT_EQ(error_message<InvalidInput>([&] { RecordingReader::open(path_); }), expected);
  EXPECT_EQ(error_message<InvalidInput>([&] { RecordingWriter::open_append(path_, tiny_model()); }),
            expected);
}

TEST_F(RecordingTest, NonHdf5FileIsIoError) {
  const std::string text = (dir_ / "notes.txt").string();
  std::ofstream(text) << "not an HDF5 file\n";
  std::string message = error_message<IoError>([&] { RecordingReader::open(text); });
  EXPECT_EQ(message.find(text), 0u) << message;
  EXPECT_NE(message.find("signature"), std::string::npos) << message;
  EXPECT_EQ(
      error_message<IoError>([&] { RecordingWriter::open_append(text, tiny_model()); }).find(text),
      0u);

  const std::string missing = (dir_ / "missing.h5").string();
  message = error_message<IoError>([&] { RecordingReader::open(missing); });
  EXPECT_EQ(
      message,
      missing + ": cannot open as HDF5 file (unable to open file: No such file or directory)");
  message = error_message<IoError>(
      [&] { RecordingWriter::create((dir_ / "no_dir" / "x.h5").string(), tiny_model()); });
  EXPECT_NE(message.find("no_dir/x.h5: cannot create file"), std::string::npos) << message;
}

TEST_F(RecordingTest, Hdf5FileWithoutVersionIsNotARecording) {
  H5Fclose(H5Fcreate(path_.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
  const std::string message = error_message<InvalidInput>([&] { RecordingReader::open(path_); });
  EXPECT_EQ(message, path_ + " is not a headscope recording (no root attribute headscope_format)");
}

TEST_F(RecordingTest, WritesEmptyScalarAndNestedDatasets) {
  {
    RecordingWriter writer = RecordingWriter::create(path_, tiny_model());
    RunWriter run = writer.begin_run();
    run.write_tokens({});
    run.write_token_text({});
    run.write_array(kPattern, DType::kF16, {kHeads, 0, 0}, DType::kF32, nullptr);
    const float scalar = 0.25f;
    run.write_array("loss", DType::kF16, {}, DType::kF32, &scalar);
    const std::vector<float> entropy = values(2 * 3 * 5, 0);
    run.write_array("attention_stats/entropy", DType::kF32, {2, 3, 5}, DType::kF32, entropy.data());
    const std::vector<int64_t> indices = {1, 2, 3};
    run.write_array("topk_index", DType::kI64, {3}, DType::kI64, indices.data());
    run.commit();
  }
  const RecordingReader reader = RecordingReader::open(path_);
  EXPECT_EQ(reader.datasets(0),
            (std::vector<std::string>{"attention_stats/entropy", kPattern, "loss", "token_text",
                                      "tokens", "topk_index"}));
  EXPECT_TRUE(reader.read_tokens(0).empty());
  EXPECT_TRUE(reader.read_token_text(0).empty());
  EXPECT_EQ(reader.shape(0, kPattern), (std::vector<int64_t>{kHeads, 0, 0}));
  EXPECT_TRUE(reader.read_f32(0, kPattern).empty());
  EXPECT_TRUE(reader.shape(0, "loss").empty());
  EXPECT_EQ(reader.read_f32(0, "loss"), std::vector<float>{0.25f});
  EXPECT_EQ(reader.read_f32(0, "attention_stats/entropy"), values(2 * 3 * 5, 0));
  EXPECT_EQ(reader.shape(0, "topk_index"), std::vector<int64_t>{3});
}

TEST_F(RecordingTest, RejectsBadInputNamingFileAndObject) {
  RecordingWriter writer = RecordingWriter::create(path_, tiny_model());
  RunWriter run = writer.begin_run();
  const float value = 1.0f;
  const auto expect_invalid = [&](auto call, const std::string& object) {
    const std::string message = error_message<InvalidInput>(call);
    EXPECT_EQ(message.find(path_ + ": " + object), 0u) << message;
  };
  expect_invalid([&] { run.write_token_text({"ok", "\xff"}); }, "/runs/0/token_text");
  expect_invalid([&] { run.write_token_text({std::string("a\0b", 3)}); }, "/runs/0/token_text");
  expect_invalid([&] { run.write_array("x", DType::kBF16, {1}, DType::kBF16, &value); },
                 "/runs/0/x");
  expect_invalid([&] { run.write_array("x", DType::kF32, {1}, DType::kI32, &value); }, "/runs/0/x");
  expect_invalid([&] { run.write_array("x", DType::kF32, {-1}, DType::kF32, &value); },
                 "/runs/0/x");
  for (const std::string name : {"", "/x", "a//b", "a/", "./a"}) {
    expect_invalid([&] { run.write_array(name, DType::kF32, {1}, DType::kF32, &value); },
                   name.empty() ? "/runs/0" : "/runs/0/" + name);
  }
  run.write_array("x", DType::kF32, {1}, DType::kF32, &value);
  const std::string duplicate =
      error_message<IoError>([&] { run.write_array("x", DType::kF32, {1}, DType::kF32, &value); });
  EXPECT_EQ(duplicate, path_ + ": /runs/0/x: cannot create dataset (name already exists)");
  run.commit();

  const RecordingReader reader = RecordingReader::open(path_);
  const std::string missing_run = error_message<InvalidInput>([&] { reader.read_tokens(5); });
  EXPECT_EQ(missing_run, path_ + ": no run 5 (the file holds 1 committed runs)");
  expect_invalid([&] { reader.read_f32(0, "nope"); }, "/runs/0/nope");
  expect_invalid([&] { reader.read_f32(0, "nope/deeper"); }, "/runs/0/nope/deeper");
  expect_invalid([&] { reader.read_tokens(0); }, "/runs/0/tokens");
  expect_invalid([&] { reader.attribute(0, "task"); }, "/runs/0");
}

// The format promise: a notebook reads the file with plain h5py.
TEST_F(RecordingTest, H5pyReadsTheFile) {
  if (std::system("/usr/bin/python3 -c 'import h5py' >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "/usr/bin/python3 cannot import h5py (Debian: python3-h5py)";
  }
  write_two_runs();
  const std::string script = (dir_ / "check.py").string();
  std::ofstream(script) << R"PY(
import json, sys
import h5py, numpy as np

f = h5py.File(sys.argv[1], "r")
a = f.attrs
assert a["headscope_format"] == 1, a["headscope_format"]
assert a["model_family"] == "gpt2", repr(a["model_family"])
assert a["model_path"] == "/models/tiny-gpt2", repr(a["model_path"])
for name, value in [("n_layers", 2), ("n_heads", 4), ("n_kv_heads", 4), ("d_head", 8),
                    ("d_model", 32), ("vocab_size", 50257)]:
    assert a[name] == value, (name, a[name])
assert json.loads(f["model/config_json"].asstr()[()])["note"] == "naïve"
assert sorted(f["runs"].keys()) == ["0", "1"], list(f["runs"].keys())

run = f["runs/1"]
assert run.attrs["prompt"] == "Hello café 1", repr(run.attrs["prompt"])
assert run["tokens"].dtype == np.int32, run["tokens"].dtype
assert run["tokens"][:].tolist() == [15496, 40305, 33768, 0], run["tokens"][:]
assert run["token_text"].asstr()[:].tolist() == ["Hello", "Ġcafé", "Ġ日本", "!"]

pattern = run["blocks.1.attn.hook_pattern"]
assert pattern.dtype == np.float16, pattern.dtype
assert pattern.chunks == (1, 24, 24), pattern.chunks
assert pattern.compression == "gzip" and pattern.compression_opts == 1, pattern.compression
assert pattern.shuffle
scores = run["blocks.1.attn.hook_attn_scores"]
assert scores.dtype == np.float32 and scores.shuffle and scores.compression == "gzip"
# Same rounding as numpy, bit for bit.
assert (pattern[:].view(np.uint16) == scores[:].astype(np.float16).view(np.uint16)).all()
wide = run["wide"]
assert wide.dtype == np.float16 and wide.chunks == (1, 512, 40), wide.chunks
assert run["tokens"].chunks == (4,), run["tokens"].chunks
print("h5py ok")
)PY";
  const std::string command = "/usr/bin/python3 '" + script + "' '" + path_ + "' 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buffer[4096];
  while (const size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) output.append(buffer, n);
  EXPECT_EQ(pclose(pipe), 0) << output;
  EXPECT_NE(output.find("h5py ok"), std::string::npos) << output;
}

}  // namespace
}  // namespace headscope
