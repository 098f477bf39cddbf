// Runs the real `headscope` binary: exit codes, messages users see, and recordings read back
// by Debian's h5py.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/base/error.h"
#include "core/model/transformer.h"
#include "core/store/recording_reader.h"
#include "tests/support/cli_run.h"
#include "tests/support/fixtures.h"
#include "tests/support/forward_bounds.h"
#include "tests/support/reference.h"
#include "tests/support/tolerance.h"

namespace headscope {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr auto& run = test::run_cli;

std::string temp_path(const std::string& name) {
  // Per process: several builds of the suite may run at once on one machine.
  auto dir =
      std::filesystem::temp_directory_path() / ("headscope_cli_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

bool has_h5py() {
  return std::system("/usr/bin/python3 -c 'import h5py' 2>/dev/null") == 0;
}

TEST(Cli, InspectPrintsArchitecture) {
  auto r = run("inspect " + test::fixture("hf-tiny/gpt_neox") + " --json");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("\"family\": \"gpt_neox\""));
  EXPECT_THAT(r.output, HasSubstr("\"rotary_dims\": 4"));
  auto hooks = run("inspect " + test::fixture("hf-tiny/gpt2") + " --hooks");
  EXPECT_THAT(hooks.output, HasSubstr("blocks.1.attn.hook_pattern"));
  EXPECT_THAT(hooks.output, HasSubstr("hook_pos_embed"));
}

TEST(Cli, UserErrorsExitOneWithoutBacktrace) {
  for (const std::string& args : std::vector<std::string>{
           "inspect /nonexistent",
           "record " + test::fixture("hf-tiny/llama") + " --tokens 1,x --out " +
               temp_path("bad.h5"),
           "record " + test::fixture("hf-tiny/llama") + " --tokens 1,2 --hooks blocks.7.* --out " +
               temp_path("bad.h5"),
           "generate " + test::fixture("hf-tiny/llama") + " --tokens 1,999",
           "generate " + test::fixture("hf-tiny/llama") + " --prompt hello",
           "tokenize " + test::fixture("tokenizers/qwen3") + " --decode 1,99999999"}) {
    auto r = run(args);
    EXPECT_EQ(r.status, 1) << args << "\n" << r.output;
    EXPECT_THAT(r.output, HasSubstr("headscope: error: ")) << args;
    EXPECT_THAT(r.output, Not(HasSubstr("Exception raised from"))) << args;
  }
  EXPECT_THAT(
      run("record " + test::fixture("hf-tiny/llama") + " --tokens 1,x --out " + temp_path("bad.h5"))
          .output,
      HasSubstr("'x'"));
  EXPECT_THAT(run("generate " + test::fixture("hf-tiny/llama") + " --tokens 1,999").output,
              HasSubstr("999"));
}

TEST(Cli, GenerateMatchesTransformersGreedy) {
  auto ref = test::load_reference(test::fixture("hf-tiny/qwen2/reference.safetensors"));
  const auto& prompt = ref.at("generate.prompt");
  const auto& expected = ref.at("generate.output");
  std::string ids, want;
  for (int64_t i = 0; i < prompt.size(1); ++i) {
    ids += (i ? "," : "") + std::to_string(prompt[0][i].item<int64_t>());
  }
  for (int64_t i = prompt.size(1); i < expected.size(1); ++i) {
    want += " " + std::to_string(expected[0][i].item<int64_t>());
  }
  auto r = run("generate " + test::fixture("hf-tiny/qwen2") + " --tokens " + ids +
               " --max-new-tokens " + std::to_string(expected.size(1) - prompt.size(1)));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("tokens:" + want + "\n"));
}

TEST(Cli, TokenizeEncodesAndDecodes) {
  auto r = run("tokenize " + test::fixture("tokenizers/gpt2") + " --text 'Hello world' --json");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("\"ids\":[15496,995]"));
  auto d = run("tokenize " + test::fixture("tokenizers/gpt2") + " --decode 15496,995");
  EXPECT_EQ(d.output, "Hello world\n");
}

// The round trip a notebook user makes: patterns recorded by the CLI for the reference inputs,
// read back with h5py, equal transformers' attention maps to float32 rounding (bound derived in the
// script).
TEST(Cli, RecordedPatternsReadBackWithH5pyEqualReference) {
  if (!has_h5py()) GTEST_SKIP() << "Debian's python3-h5py is not installed";
  for (const std::string family : {"gpt2", "gpt_neox", "qwen3", "mistral"}) {
    const auto dir = test::fixture("hf-tiny/" + family);
    auto ref = test::load_reference(dir + "/reference.safetensors");
    const auto& ids = ref.at("input_ids");
    const auto tokens_file = temp_path(family + "_tokens.txt");
    {
      std::ofstream out(tokens_file);
      for (int64_t b = 0; b < ids.size(0); ++b) {
        for (int64_t i = 0; i < ids.size(1); ++i) {
          out << (i ? "," : "") << ids[b][i].item<int64_t>();
        }
        out << "\n";
      }
    }
    // q and k go into the file too: the script derives its bound from them.
    const auto model = Transformer::load(dir);
    const ModelConfig& c = model->config();
    const std::string qk = c.learned_positions ? "hook_" : "hook_rot_";
    const auto recording = temp_path(family + ".h5");
    auto r =
        run("record " + dir + " --tokens-file " + tokens_file + " --out " + recording +
            " --force --save-logits --hooks 'blocks.*.attn." + qk + "q,blocks.*.attn." + qk + "k'");
    ASSERT_EQ(r.status, 0) << r.output;
    // The relative error q and k carry at each layer: the float32 chain through its block
    // (tests/support/forward_bounds.h).
    std::ostringstream args;
    args << std::setprecision(17) << " " << c.n_layers << " " << model->attention_scale() << " ";
    for (int64_t l = 0; l < c.n_layers; ++l) {
      args << (l ? "," : "") << test::tol::forward_gamma(c, ids.size(1), l + 1, false);
    }
    args << " " << c.sliding_window.value_or(0);
    const std::string check = "/usr/bin/python3 " + std::string(HEADSCOPE_SOURCE_DIR) +
                              "/tests/cli/record_roundtrip.py " + recording + " " + dir +
                              "/reference.safetensors" + args.str();
    EXPECT_EQ(std::system(check.c_str()), 0) << check;
  }
}

// --compression changes how chunks are stored, never what they hold: every dataset of a
// recording equals the default's, read back by h5py, with the filters each form names.
TEST(Cli, RecordCompressionStoresTheSameValues) {
  if (!has_h5py()) GTEST_SKIP() << "Debian's python3-h5py is not installed";
  const std::string base = "record " + test::fixture("hf-tiny/llama") +
                           " --tokens 5,9,2,7,1,3,8,4 --attention both --save-logits --force";
  const std::vector<std::pair<std::string, std::string>> forms = {
      {"deflate:1", "gzip 1"}, {"deflate:4", "gzip 4"}, {"none", "None None"}};
  std::string files;
  for (const auto& [form, filters] : forms) {
    const auto out = temp_path("compression_" + form.substr(0, 7) + form.back() + ".h5");
    auto r = run(base + (form == "deflate:1" ? "" : " --compression " + form) + " --out " + out);
    ASSERT_EQ(r.status, 0) << r.output;
    files += " " + out + " '" + filters + "'";
  }
  // argv: (file, "compression level") per form; the first is the default's.
  const std::string script = R"(
import sys, h5py, numpy as np
forms = list(zip(sys.argv[1::2], sys.argv[2::2]))
def datasets(f):
    out = {}
    f.visititems(lambda n, o: out.__setitem__(n, o) if isinstance(o, h5py.Dataset) else None)
    return out
ref = datasets(h5py.File(forms[0][0], 'r'))
assert len(ref) > 10, sorted(ref)
for path, filters in forms:
    got = datasets(h5py.File(path, 'r'))
    assert sorted(got) == sorted(ref), path
    for name, d in got.items():
        assert np.array_equal(d[()], ref[name][()]), (path, name)
        if d.chunks is not None:
            assert '%s %s' % (d.compression, d.compression_opts) == filters, (path, name)
            assert d.shuffle == (d.compression is not None), (path, name)
)";
  const auto script_path = temp_path("compression_check.py");
  std::ofstream(script_path) << script;
  const std::string check = "/usr/bin/python3 " + script_path + files;
  EXPECT_EQ(std::system(check.c_str()), 0) << check;
}

TEST(Cli, RecordRefusesToClobberAndAppends) {
  const auto recording = temp_path("append.h5");
  std::filesystem::remove(recording);
  const auto base =
      "record " + test::fixture("hf-tiny/llama") + " --tokens 1,2,3 --out " + recording;
  ASSERT_EQ(run(base).status, 0);
  auto again = run(base);
  EXPECT_EQ(again.status, 1);
  EXPECT_THAT(again.output, HasSubstr("--append"));
  auto appended = run(base + " --append");
  EXPECT_EQ(appended.status, 0) << appended.output;
  EXPECT_THAT(appended.output, HasSubstr("(2 in the file)"));
}

// SIGINT in the middle of a recording leaves a file that opens and holds every completed run.
// HDF5 reads HDF5_USE_FILE_LOCKING once, when the library starts; other tests of this binary
// open files before InterruptedRecordingKeepsCompletedRuns runs, so it is set before main.
const bool kNoHdf5FileLocks = setenv("HDF5_USE_FILE_LOCKING", "FALSE", 1) == 0;

TEST(Cli, InterruptedRecordingKeepsCompletedRuns) {
  const auto tokens_file = temp_path("kill_tokens.txt");
  const int runs = 12, length = 1500;
  {
    std::ofstream out(tokens_file);
    for (int r = 0; r < runs; ++r) {
      for (int i = 0; i < length; ++i) out << (i ? "," : "") << (i * 7 + r) % 512;
      out << "\n";
    }
  }
  const auto recording = temp_path("killed.h5");
  std::filesystem::remove(recording);
  const std::string model = test::fixture("hf-tiny/llama");
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    execl(HEADSCOPE_CLI, HEADSCOPE_CLI, "record", model.c_str(), "--tokens-file",
          tokens_file.c_str(), "--out", recording.c_str(), "--allow-long-context", "--quiet",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  // Reading while the recorder writes: HDF5's lock is off in this process (kNoHdf5FileLocks),
  // and a read may meet half-written metadata, so it is retried.
  int64_t seen = 0;
  for (int attempt = 0; attempt < 1200 && seen < 1; ++attempt) {
    usleep(50 * 1000);
    try {
      seen = RecordingReader::open(recording).run_count();
    } catch (const Error&) {
    }
  }
  ASSERT_GE(seen, 1) << "no run completed within 60 s";
  kill(pid, SIGINT);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFSIGNALED(status)) << "the recorder finished before it was interrupted";

  auto reader = RecordingReader::open(recording);
  const int64_t completed = reader.run_count();
  EXPECT_GE(completed, seen);
  EXPECT_LT(completed, runs);
  for (int64_t r = 0; r < completed; ++r) {
    EXPECT_EQ(reader.read_tokens(r).size(), static_cast<size_t>(length));
    EXPECT_EQ(reader.shape(r, "blocks.1.attn.hook_pattern"),
              (std::vector<int64_t>{4, length, length}));
    auto head =
        reader.read_f32_slice(r, "blocks.1.attn.hook_pattern", {3, length - 1, 0}, {1, 1, length});
    double total = 0;
    for (float p : head) total += p;
    // A float32 softmax row over `length` keys: the exponentials and their sum (gamma_{n+1} of
    // the total) and the division round, then this float64 sum.
    EXPECT_TRUE(test::tol::within(total, 1.0,
                                  test::tol::gamma(length + 3, test::tol::kFloat32) +
                                      test::tol::gamma(length, test::tol::kFloat64),
                                  "row sum"));
  }
}

TEST(Cli, RecordBadInputsLeaveNoFile) {
  const auto out = temp_path("never.h5");
  std::filesystem::remove(out);
  const std::string llama = test::fixture("hf-tiny/llama");
  std::string long_tokens;
  for (int i = 0; i < 200; ++i) long_tokens += (i ? "," : "") + std::to_string(i);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"record " + llama + " --tokens " + long_tokens + " --out " + out, "--allow-long-context"},
      {"record " + test::fixture("hf-tiny/gpt2") + " --tokens " + long_tokens + " --out " + out,
       "learned positions"},
      {"record " + llama + " --tokens 1,2 --hooks blocks.1.nope --out " + out, "blocks.1.nope"},
      {"record " + llama + " --tokens 1,2 --attention maps --out " + out, "--attention"},
      {"record " + llama + " --tokens 1,2 --compression zstd --out " + out, "--compression"},
      {"record " + llama + " --tokens 1,2 --out /nonexistent/dir/x.h5", "/nonexistent/dir/x.h5"},
  };
  for (const auto& [args, needle] : cases) {
    auto r = run(args);
    EXPECT_EQ(r.status, 1) << args << "\n" << r.output;
    EXPECT_THAT(r.output, HasSubstr(needle)) << args;
    EXPECT_FALSE(std::filesystem::exists(out)) << args;
  }
}

}  // namespace
}  // namespace headscope
