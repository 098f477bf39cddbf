// `headscope retrieval` end to end on a zoo model trained for one step (the zoo vocabulary and
// its tokenizer.json; random-like weights): the file h5py reads, the JSON export, --append, and
// the one-line errors.
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/store/recording_reader.h"
#include "tests/support/cli_run.h"
#include "tests/support/temp_dir_test.h"

namespace headscope {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr auto& run = test::run_cli;

bool has_h5py() {
  return std::system("/usr/bin/python3 -c 'import h5py' 2>/dev/null") == 0;
}

class RetrievalCli : public test::TempDirTest {
 protected:
  static void SetUpTestSuite() {
    model_dir_ = new std::string(std::filesystem::temp_directory_path() /
                                 ("headscope_retrieval_cli_" + std::to_string(::getpid())));
    const auto r = run("zoo train tiny-ci --steps 1 --quiet --out " + *model_dir_);
    ASSERT_EQ(r.status, 0) << r.output;
  }
  static void TearDownTestSuite() {
    std::error_code error;
    std::filesystem::remove_all(*model_dir_, error);
    delete model_dir_;
  }
  static const std::string& model() { return *model_dir_; }

  // A small grid: 2 lengths x 2 depths x 4 built-in needles, 4 tokens each.
  std::string retrieval(const std::string& out, const std::string& extra = "") const {
    return "retrieval " + model() + " --out " + out +
           " --length 48,64 --depth 0,0.5 --max-new-tokens 4 --quiet " + extra;
  }

 private:
  static std::string* model_dir_;
};

std::string* RetrievalCli::model_dir_ = nullptr;

TEST_F(RetrievalCli, WritesAnalysisAndRetrievalHeadJson) {
  const std::string out = path("r.h5"), json = path("head_score.json");
  auto r = run(retrieval(out, "--export-json " + json + " --semantics set --threshold 0.2"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, "");  // --quiet
  std::ifstream in(json);
  std::string line;
  std::getline(in, line);
  // 2 layers x 4 heads, keys "L-H".
  EXPECT_THAT(line, StartsWith("{\"0-0\":["));
  EXPECT_THAT(line, HasSubstr("\"1-3\":["));

  if (!has_h5py()) GTEST_SKIP() << "Debian's python3-h5py is not installed";
  const auto check = test::shell(
      "/usr/bin/python3 -c \"import h5py; f = h5py.File('" + out +
      "'); g = f['analyses/retrieval_heads']; "
      "print(f.attrs['headscope_format'], g['score'].dtype, g['score'].shape, "
      "g['per_sample'].shape, g['kv_group_max'].shape, g['length'][:].tolist(), "
      "g['depth'][:].tolist()[:2], g['generated_text'].shape, g.attrs['semantics'], "
      "g.attrs['threshold'], g.attrs['lengths'].tolist(), g['needles/answer'].shape)\"");
  ASSERT_EQ(check.status, 0) << check.output;
  EXPECT_EQ(check.output,
            "1 float64 (2, 4) (16, 2, 4) (2, 4) [48, 48, 48, 48, 48, 48, 48, 48, 64, 64, 64, 64, "
            "64, 64, 64, 64] [0.0, 0.0] (16,) set 0.2 [48, 64] (4,)\n");
  EXPECT_FALSE(std::filesystem::exists(out + ".partial-" + std::to_string(::getpid())));
}

// The stored prompts are the ones scored: greedy generation from a sample's prompt_tokens
// (headscope generate, another code path: no retrieval, no argmax trace) decodes exactly the
// stored generated_tokens. On the shipped model, whose answers win by wide logit margins, so
// the two paths' rounding cannot change an argmax.
TEST_F(RetrievalCli, StoredPromptsReproduceEachSample) {
  if (!has_h5py()) GTEST_SKIP() << "Debian's python3-h5py is not installed";
  const std::string out = path("r.h5");
  const std::string shipped = std::string(HEADSCOPE_SOURCE_DIR) + "/zoo/models/needle-4x8";
  auto r = run("retrieval " + shipped + " --out " + out +
               " --length 96,128 --depth 0,0.5,1 --quiet");
  ASSERT_EQ(r.status, 0) << r.output;
  const auto dump = test::shell(
      "/usr/bin/python3 -c \"import h5py; g = h5py.File('" + out +
      "')['analyses/retrieval_heads']\n"
      "for i in (0, 7, 15):\n"
      "  p = g['prompt_tokens'][g['prompt_offset'][i]:][:g['prompt_length'][i]]\n"
      "  q = g['generated_tokens'][g['generated_offset'][i]:][:g['generated_length'][i]]\n"
      "  b, e = g['answer_span'][i]\n"
      "  assert len(p) == g['length'][i] and len(q) == g['steps'][i], i\n"
      "  print(','.join(map(str, p)), ','.join(map(str, q)), ','.join(map(str, p[b:e])))\"");
  ASSERT_EQ(dump.status, 0) << dump.output;
  std::istringstream lines(dump.output);
  std::string prompt, generated, answer;
  int samples = 0;
  while (lines >> prompt >> generated >> answer) {
    ++samples;
    const int64_t steps = std::count(generated.begin(), generated.end(), ',') + 1;
    auto g = run("generate " + shipped + " --tokens " + prompt +
                 " --json --max-new-tokens " + std::to_string(steps));
    ASSERT_EQ(g.status, 0) << g.output;
    EXPECT_THAT(g.output, HasSubstr("\"generated_tokens\":[" + generated + "]")) << prompt;
    // The answer span holds the needle's answer, as tokens of the prompt.
    EXPECT_THAT(prompt, HasSubstr(answer));
  }
  EXPECT_EQ(samples, 3) << dump.output;
}

TEST_F(RetrievalCli, AppendsToARecordingOfTheSameModel) {
  const std::string out = path("rec.h5");
  auto rec = run("record " + model() + " --tokens 256,300,301 --out " + out + " --quiet");
  ASSERT_EQ(rec.status, 0) << rec.output;
  auto r = run(retrieval(out, "--append"));
  ASSERT_EQ(r.status, 0) << r.output;
  auto reader = RecordingReader::open(out);
  EXPECT_EQ(reader.run_count(), 1);
  // Without --append or --force an existing file is left alone.
  auto again = run(retrieval(out));
  EXPECT_EQ(again.status, 1);
  EXPECT_THAT(again.output, HasSubstr("exists; add --append"));
}

TEST_F(RetrievalCli, BadInputIsOneLineAndLeavesNoFile) {
  const std::string out = path("bad.h5");
  const std::string needles = path("n.jsonl");
  std::ofstream(needles) << "{\"needle\": \"the key is red .\", \"question\": \"q ?\", "
                            "\"answer\": \"red\"}\n{\"needle\": \"x\", \"question\": \"q\"}\n";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--semantics sets", "--semantics: expected steps or set, got 'sets'"},
      {"--depth 0,1.5", "--depth: expected a number in [0, 1], got '1.5'"},
      {"--threshold nan", "--threshold"},
      {"--needles " + path("none.jsonl"), "cannot open " + path("none.jsonl")},
      {"--needles " + needles, needles + ":2: missing field 'answer'"},
      {"--haystack " + path("none.txt"), "--haystack: cannot open"},
      {"--length 8", "--length: 8 tokens cannot hold"},
  };
  for (const auto& [extra, expected] : cases) {
    auto r = run(retrieval(out, extra));
    EXPECT_EQ(r.status, 1) << extra << "\n" << r.output;
    EXPECT_THAT(r.output, StartsWith("headscope: error: ")) << extra;
    EXPECT_THAT(r.output, HasSubstr(expected)) << extra;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
    EXPECT_FALSE(std::filesystem::exists(out)) << extra;
  }
}

}  // namespace
}  // namespace headscope
