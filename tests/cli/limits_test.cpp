// Bad input and oversized requests through the real `headscope` binary: every one ends in one
// `headscope: error:` line and exit status 1, before any computation and without leaving a
// file, whether the parser, a check, LibTorch or the standard library noticed it. Each command
// runs under `timeout`, so one that would hang or run for hours fails instead of stalling CI.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/fixtures.h"
#include "tests/support/shell.h"
#include "tests/support/temp_dir_test.h"

namespace headscope {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// Seconds any single refusal may take: model loading of the fixtures is milliseconds.
constexpr int kTimeoutSeconds = 60;

test::ShellResult run(const std::string& args) {
  return test::shell("timeout " + std::to_string(kTimeoutSeconds) + " " +
                     std::string(HEADSCOPE_CLI) + " " + args);
}

std::string llama() { return test::fixture("hf-tiny/llama"); }
std::string gpt2() { return test::fixture("hf-tiny/gpt2"); }
std::string zoo_model() { return std::string(HEADSCOPE_SOURCE_DIR) + "/zoo/models/needle-4x8"; }

// The run ended in exactly one error line naming `expected`, and status 1.
void expect_one_line_error(const test::ShellResult& r, const std::string& args,
                           const std::string& expected) {
  EXPECT_EQ(r.status, 1) << args << "\n" << r.output;
  EXPECT_THAT(r.output, StartsWith("headscope: error: ")) << args;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << args << "\n" << r.output;
  EXPECT_THAT(r.output, HasSubstr(expected)) << args;
  EXPECT_THAT(r.output, Not(HasSubstr("terminate called"))) << args;
}

class Limits : public test::TempDirTest {
 protected:
  // `count` token ids (1, 2, 3, ...) on one line.
  std::string tokens_file(const std::string& name, int64_t count) const {
    std::ofstream out(path(name));
    for (int64_t i = 0; i < count; ++i) out << (i == 0 ? "" : ",") << 1 + i % 100;
    out << "\n";
    return path(name);
  }
  bool empty_dir() const { return std::filesystem::is_empty(dir_); }
};

TEST_F(Limits, OptionErrorsNameTheOptionAndExitOne) {
  const std::string out = " --out " + path("x.h5");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"record " + llama() + " --tokens 1,2" + out + " --topk 0",
       "--topk: expected an integer from 1 to 65536, got '0'"},
      {"record " + llama() + " --tokens 1,2" + out + " --window abc",
       "--window: expected an integer from 1 to"},
      {"record " + llama() + " --tokens 1,2" + out + " --attention maps",
       "--attention: expected full, stats, both or none, got 'maps'"},
      {"record " + llama() + " --tokens 1,2" + out + " --store-dtype bf16",
       "--store-dtype: expected f16 or f32"},
      {"generate " + llama() + " --tokens 1,2 --device tpu", "--device: expected cpu, cuda or cuda:N"},
      {"generate " + llama() + " --tokens 1,2 --dtype f8", "--dtype: expected auto"},
      {"sparse-eval " + zoo_model() + " --config " + path("none") + " --dtype x",
       "--dtype: expected auto"},
      {"sparse-eval " + zoo_model() + " --config " + path("none") + " --length abc",
       "--length: expected an integer from 2 to"},
      {"sparse-eval " + zoo_model() + " --config " + path("none") + " --task sort",
       "--task: expected niah"},
      {"sparse-config x.h5 --format duo --out " + path("c") + " --kind dense",
       "--kind: expected streaming or block_sparse"},
      {"sparse-config x.h5 --format parquet --out " + path("c"), "--format: expected duo"},
      {"ablate " + zoo_model() + " --task niah --random 2 --method drop", "--method: expected zero"},
      {"importance " + zoo_model() + " --task ioi --metric f1",
       "--metric: expected accuracy, token-accuracy or logit-diff, got 'f1'"},
      {"retrieval " + zoo_model() + out + " --semantics sets",
       "--semantics: expected steps or set, got 'sets'"},
      {"zoo train needle --out " + path("m") + " --save-dtype f16",
       "--save-dtype: expected f32 or bf16, got 'f16'"},
      {"importance " + zoo_model() + " --task niah --step-fraction 2",
       "--step-fraction: expected a number in [0, 1], got '2'"},
      {"retrieval " + zoo_model() + out + " --depth 0,1.5", "--depth: expected a number in [0, 1]"},
      {"retrieval " + zoo_model() + out + " --seed -1", "--seed: expected an integer from 0"},
      {"record " + llama() + " --tokens 1,2", "--out is required"},
      {"inspect " + llama() + " --bogus", "--bogus"},
      {"", "subcommand"},
  };
  for (const auto& [args, expected] : cases) {
    const auto r = run(args);
    expect_one_line_error(r, args, expected);
    EXPECT_THAT(r.output, Not(HasSubstr("179769"))) << args;
  }
  EXPECT_TRUE(empty_dir());
}

TEST_F(Limits, HelpAndVersionStillExitZero) {
  EXPECT_EQ(run("--version").status, 0);
  const auto help = run("record --help");
  EXPECT_EQ(help.status, 0);
  EXPECT_THAT(help.output, HasSubstr("--topk"));
}

TEST_F(Limits, StandardLibraryErrorsBecomeOneLine) {
  // config.json a symlink loop: std::filesystem reports it, main must not terminate().
  const std::string model = path("loop");
  std::filesystem::create_directories(model);
  std::filesystem::create_symlink(model + "/config.json", model + "/config.json");
  for (const std::string& args : {"inspect " + model, "tokenize " + model + " --text hi"}) {
    const auto r = run(args);
    EXPECT_EQ(r.status, 1) << args << "\n" << r.output;
    EXPECT_THAT(r.output, StartsWith("headscope: error: ")) << args;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << args << "\n" << r.output;
  }
}

TEST_F(Limits, TorchMessagesDoNotLeak) {
  const std::string out = path("x.h5");
  const std::string f16 = "record " + llama() + " --tokens 1,2,3 --out " + out +
                          " --dtype f16";
  expect_one_line_error(run(f16), f16, "--dtype f16: LibTorch has no float16");
  EXPECT_THAT(run(f16).output, HasSubstr("f32 or bf16"));
  const std::string f16_eval =
      "sparse-eval " + zoo_model() + " --config " + path("none") + " --dtype f16";
  expect_one_line_error(run(f16_eval), f16_eval, "--dtype f16: LibTorch has no float16");
  EXPECT_FALSE(std::filesystem::exists(out));

  // More top keys than the first chunk of queries (256) sees, and than a short run has: the
  // statistics keep k slots, the ones past a query's keys empty.
  for (const int64_t tokens : {300, 100}) {
    const std::string topk = "record " + llama() + " --tokens-file " +
                             tokens_file("t.txt", tokens) +
                             " --allow-long-context --attention stats --topk 280 --quiet --force "
                             "--out " + out;
    const auto r = run(topk);
    EXPECT_EQ(r.status, 0) << r.output;
    EXPECT_THAT(r.output, Not(HasSubstr("out of range")));
  }
}

TEST_F(Limits, RandomWeightsTooLargeForMemoryAreRefusedWithTheEstimate) {
  const std::string model = path("huge");
  std::filesystem::create_directories(model);
  std::ifstream in(llama() + "/config.json");
  std::string config((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string layers = "\"num_hidden_layers\": 2";
  // Within config.json's ranges (core/checkpoint/model_config.cpp), but 4096 layers of a 2^22-wide MLP:
  // about 13 TB of float32 weights.
  config.replace(config.find(layers), layers.size(), "\"num_hidden_layers\": 4096");
  const std::string mlp = "\"intermediate_size\": 128";
  config.replace(config.find(mlp), mlp.size(), "\"intermediate_size\": 4194304");
  std::ofstream(model + "/config.json") << config;
  const std::string args =
      "record " + model + " --random-weights --tokens 1,2 --out " + path("x.h5");
  const auto r = run(args);
  expect_one_line_error(r, args, "random weights for 4096 layers");
  EXPECT_THAT(r.output, HasSubstr("needs about"));
  EXPECT_THAT(r.output, HasSubstr("of memory available on cpu"));
  EXPECT_FALSE(std::filesystem::exists(path("x.h5")));
}

TEST_F(Limits, RecordingTooLargeForMemoryIsRefusedBeforeTheFile) {
  const std::string out = path("x.h5");
  const std::string tokens = tokens_file("long.txt", 100000);
  const std::string full = "record " + llama() + " --tokens-file " + tokens +
                           " --allow-long-context --attention full --quiet --out " + out;
  const auto r = run(full);
  expect_one_line_error(r, full, "recording 100000 tokens with --attention full needs about");
  EXPECT_THAT(r.output, HasSubstr("--attention stats keeps memory linear"));
  // Statistics with a block of one token keep [H, T/B, T/B] block masses: quadratic again.
  const std::string blocks = "record " + llama() + " --tokens-file " + tokens +
                             " --allow-long-context --attention stats --stats-block-size 1 --out " + out;
  expect_one_line_error(run(blocks), blocks, "--stats-block-size 1) needs about");
  const std::string huge_block =
      "record " + llama() + " --tokens 1,2 --stats-block-size 1000000000000 --out " + out;
  expect_one_line_error(run(huge_block), huge_block,
                        "--stats-block-size: expected an integer from 1 to 65536");
  const std::string huge_topk = "record " + llama() + " --tokens 1,2 --topk 1000000000 --out " + out;
  expect_one_line_error(run(huge_topk), huge_topk, "--topk: expected an integer from 1 to 65536");
  EXPECT_FALSE(std::filesystem::exists(out));
}

TEST_F(Limits, InputFilesAreReadBounded) {
  const std::string out = " --out " + path("x.h5");
  const std::vector<std::pair<std::string, std::string>> devices = {
      {"retrieval " + zoo_model() + out + " --haystack /dev/zero", "--haystack: /dev/zero"},
      {"retrieval " + zoo_model() + out + " --needles /dev/zero", "--needles: /dev/zero"},
      {"record " + llama() + out + " --tokens-file /dev/zero", "--tokens-file: /dev/zero"},
      {"tokenize " + zoo_model() + " --file /dev/zero", "--file: /dev/zero"},
  };
  for (const auto& [args, expected] : devices) {
    const auto r = run(args);
    expect_one_line_error(r, args, expected);
    EXPECT_THAT(r.output, HasSubstr("is not a regular file")) << args;
  }
  // A sparse file past the limit is refused by its size, without reading it.
  const std::string big = path("big.txt");
  std::ofstream(big).put('a');
  std::filesystem::resize_file(big, (int64_t{256} << 20) + 1);
  const std::string args = "retrieval " + zoo_model() + out + " --haystack " + big;
  expect_one_line_error(run(args), args, "is larger than 256 MiB");
  EXPECT_FALSE(std::filesystem::exists(path("x.h5")));
}

TEST_F(Limits, ContextAndCountsAreBounded) {
  const std::string none = " --config " + path("none");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"sparse-eval " + zoo_model() + none + " --length 100000",
       "--length 100000: 100000 tokens, more than the model's max_position_embeddings (1024); "
       "add --allow-long-context"},
      {"sparse-eval " + zoo_model() + none + " --random-configs 100000000",
       "--random-configs: expected an integer from 0 to 100"},
      {"sparse-eval " + zoo_model() + none + " --n 0", "--n: expected an integer from 1"},
      {"generate " + zoo_model() + " --tokens 1,2 --max-new-tokens 1000000000",
       "--max-new-tokens: expected an integer from 0 to 16777216"},
      {"generate " + zoo_model() + " --tokens 1,2 --max-new-tokens 2000",
       "the prompt plus --max-new-tokens 2000: 2002 tokens, more than the model's "
       "max_position_embeddings (1024)"},
      {"generate " + gpt2() + " --tokens 1,2 --max-new-tokens 200 --allow-long-context",
       "learned positions"},
      {"retrieval " + zoo_model() + " --out " + path("x.h5") + " --length 5000",
       "--length 5000: 5000 tokens, more than the model's max_position_embeddings (1024)"},
  };
  for (const auto& [args, expected] : cases) expect_one_line_error(run(args), args, expected);
  // Past the context with the flag: the length is accepted, and the next check (the missing
  // config) is what stops it.
  const std::string allowed = "sparse-eval " + zoo_model() + none + " --length 2048 --allow-long-context";
  const auto r = run(allowed);
  EXPECT_THAT(r.output, Not(HasSubstr("--allow-long-context"))) << r.output;
  EXPECT_TRUE(empty_dir());
}

TEST_F(Limits, DecodedIdsOutsideTheVocabularyAreErrors) {
  const std::string tokenizer = test::fixture("tokenizers/qwen3");
  expect_one_line_error(run("tokenize " + tokenizer + " --decode 4294967296"), "4294967296",
                        "--decode: 4294967296 is larger than any token id");
  const std::string args = "tokenize " + zoo_model() + " --decode 1,100000";
  const auto r = run(args);
  expect_one_line_error(r, args, "--decode: id 100000 is outside the vocabulary of");
  EXPECT_EQ(run("tokenize " + zoo_model() + " --decode 1,2").status, 0);
}

TEST_F(Limits, OutputPathsAreCheckedBeforeAnyComputation) {
  const std::string nodir = path("nodir") + "/x";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"retrieval " + zoo_model() + " --out " + path("r.h5") + " --export-json " + nodir + ".json",
       "--export-json: " + nodir + ".json: directory " + path("nodir") + " does not exist"},
      {"retrieval " + zoo_model() + " --out " + nodir + ".h5", "--out: " + nodir + ".h5"},
      {"record " + llama() + " --tokens 1,2 --out " + nodir + ".h5", "--out: " + nodir + ".h5"},
      {"record " + llama() + " --tokens 1,2 --out " + path(""), "is a directory"},
      {"sparse-eval " + zoo_model() + " --config " + path("none") + " --export-json " + nodir +
           ".json",
       "--export-json: " + nodir + ".json"},
      {"ablate " + zoo_model() + " --task niah --random 2 --out " + nodir + ".h5",
       "--out: " + nodir + ".h5"},
      {"importance " + zoo_model() + " --task niah --out " + nodir + ".h5", "--out: " + nodir + ".h5"},
  };
  for (const auto& [args, expected] : cases) expect_one_line_error(run(args), args, expected);
  // A directory output whose path is a file.
  std::ofstream(path("file")) << "x";
  const std::string dir_args = "sparse-config x.h5 --format duo --out " + path("file");
  expect_one_line_error(run(dir_args), dir_args, "exists and is not a directory");
  EXPECT_FALSE(std::filesystem::exists(path("r.h5")));
}

}  // namespace
}  // namespace headscope
