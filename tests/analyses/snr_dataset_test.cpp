// `snr --dataset` input: a JSON Lines file of token ids and queries with their relevant keys,
// read into samples and queries, and every malformed record named by file, line and field.
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "analyses/snr/snr_dataset.h"
#include "core/base/error.h"
#include "tests/support/error_message.h"
#include "tests/support/temp_dir_test.h"

namespace headscope {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class SnrDatasetFile : public test::TempDirTest {
 protected:
  ModelConfig config() const {
    ModelConfig c;
    c.vocab_size = 100, c.max_positions = 64;
    return c;
  }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(path(name)) << text;
    return path(name);
  }
};

TEST_F(SnrDatasetFile, ReadsSamplesAndQueries) {
  const std::string file = write(
      "ok.jsonl",
      R"({"tokens": [1, 2, 3, 4, 5, 6], "queries": [{"position": 5, "relevant": [2, 0, 2]}]})"
      "\n  \n"
      R"({"queries": [{"relevant": [1], "position": 2}, {"position": 3, "relevant": [3]}], "tokens": [9, 8, 7, 6]})"
      "\n");
  const SnrPrompts d = read_snr_dataset(file, config());
  ASSERT_EQ(d.samples.size(), 2u);
  EXPECT_EQ(d.samples[0].task, "dataset");
  EXPECT_THAT(d.samples[0].tokens, ElementsAre(1, 2, 3, 4, 5, 6));
  EXPECT_THAT(d.samples[1].tokens, ElementsAre(9, 8, 7, 6));
  EXPECT_EQ(d.longest, 6);
  ASSERT_EQ(d.queries.size(), 3u);
  EXPECT_EQ(d.queries[0].sample, 0);
  EXPECT_EQ(d.queries[0].position, 5);
  EXPECT_THAT(d.queries[0].relevant, ElementsAre(0, 2));  // sorted, the repeat dropped
  EXPECT_EQ(d.queries[1].sample, 1);
  EXPECT_EQ(d.queries[1].position, 2);
  EXPECT_EQ(d.queries[2].sample, 1);
  EXPECT_THAT(d.queries[2].relevant, ElementsAre(3));
}

TEST_F(SnrDatasetFile, ErrorsNameFileLineAndField) {
  const std::string good =
      R"({"tokens": [1, 2, 3], "queries": [{"position": 2, "relevant": [0]}]})";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{not json", ":2: not valid JSON"},
      {"[1, 2]", ":2: expected a JSON object with tokens and queries, got array"},
      {R"({"tokens": [1], "queries": [{"position": 0, "relevant": [0]}], "text": "x"})",
       ":2: text: unknown field; expected tokens, queries"},
      {R"({"queries": [{"position": 0, "relevant": [0]}]})",
       ":2: tokens: expected a non-empty list"},
      {R"({"tokens": [1, 100], "queries": [{"position": 0, "relevant": [0]}]})",
       ":2: tokens[1]: expected a token id, in [0, 99], got 100"},
      {R"({"tokens": [1, "a"], "queries": [{"position": 0, "relevant": [0]}]})",
       ":2: tokens[1]: expected a token id, in [0, 99], got \"a\""},
      {R"({"tokens": [1, 2], "queries": []})", ":2: queries: expected a non-empty list"},
      {R"({"tokens": [1, 2], "queries": [3]})",
       ":2: queries[0]: expected an object with position and relevant"},
      {R"({"tokens": [1, 2], "queries": [{"relevant": [0]}]})",
       ":2: queries[0].position: missing; expected a token position"},
      {R"({"tokens": [1, 2], "queries": [{"position": 2, "relevant": [0]}]})",
       ":2: queries[0].position: expected a position in the sample, in [0, 1], got 2"},
      {R"({"tokens": [1, 2, 3], "queries": [{"position": 1, "relevant": [0, 2]}]})",
       ":2: queries[0].relevant[1]: expected a key position at or before the query's, in [0, "
       "1], got 2"},
      {R"({"tokens": [1, 2], "queries": [{"position": 1, "keys": [0]}]})",
       ":2: queries[0].keys: unknown field; expected position, relevant"},
  };
  for (const auto& [line, expected] : cases) {
    const std::string file = write("bad.jsonl", good + "\n" + line + "\n");
    EXPECT_THAT(test::error_message<InvalidInput>([&] { read_snr_dataset(file, config()); }),
                HasSubstr(file + expected))
        << line;
  }
  const std::string empty = write("empty.jsonl", "\n \n");
  EXPECT_THAT(test::error_message<InvalidInput>([&] { read_snr_dataset(empty, config()); }),
              HasSubstr("empty.jsonl: no records"));
  EXPECT_THROW(read_snr_dataset(path("missing.jsonl"), config()), IoError);
}

}  // namespace
}  // namespace headscope
