// --dataset FILE.jsonl of patching pairs: good records as texts and as token ids, and every kind
// of bad record refused before any compute with FILE:LINE, the field and what was expected.
#include <filesystem>
#include <fstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "analyses/circuits/patching_dataset.h"
#include "core/base/error.h"
#include "core/model/transformer.h"
#include "tests/support/error_message.h"
#include "tests/support/fixtures.h"
#include "tests/support/temp_dir_test.h"

namespace headscope {
namespace {

using ::testing::HasSubstr;

class PatchingDataset : public test::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    static const ModelConfig zoo = Transformer::load(test::fixture("zoo/ioi-2x4"))->config();
    config_ = zoo;
  }

  std::string write(const std::string& text) {
    const std::string path = (dir_ / "pairs.jsonl").string();
    std::ofstream(path) << text;
    return path;
  }

  // The error of a file whose line 3 is `bad` (a good record and a blank line before it).
  std::string error_of(const std::string& bad, const Tokenizer* tokenizer) {
    const std::string path =
        write(R"({"clean": [1, 2, 3], "corrupted": [1, 4, 3], "answer": 5, "distractor": 6})"
              "\n\n" +
              bad + "\n");
    const std::string message =
        test::error_message<InvalidInput>([&] { read_patching_dataset(path, config_, tokenizer); });
    EXPECT_THAT(message, HasSubstr(path + ":3: ")) << "for line: " << bad;
    return message;
  }

  ModelConfig config_;
  Tokenizer tokenizer_ = Tokenizer::load(test::fixture("zoo/ioi-2x4"));
};

TEST_F(PatchingDataset, ReadsTextsAndTokenIds) {
  const std::string path = write(
      "\n"
      R"({"clean": " when alice and bob went to the store", "corrupted": " when bob and alice went to the store", "answer": " alice", "distractor": " bob"})"
      "\n   \n"
      R"({"clean": [10, 11, 12, 13], "corrupted": [10, 14, 12, 13], "answer": 20})"
      "\n");
  const std::vector<PatchingPair> pairs = read_patching_dataset(path, config_, &tokenizer_);
  ASSERT_EQ(pairs.size(), 2u);
  EXPECT_EQ(pairs[0].clean, tokenizer_.encode(" when alice and bob went to the store"));
  EXPECT_EQ(pairs[0].clean.size(), pairs[0].corrupted.size());
  EXPECT_EQ(pairs[0].answer, tokenizer_.encode(" alice").front());
  EXPECT_EQ(pairs[0].distractor, tokenizer_.encode(" bob").front());
  EXPECT_EQ(pairs[0].position, static_cast<int64_t>(pairs[0].clean.size()) - 1);
  EXPECT_EQ(pairs[0].source, path + ":2");
  EXPECT_EQ(pairs[1].clean, (std::vector<int32_t>{10, 11, 12, 13}));
  EXPECT_EQ(pairs[1].answer, 20);
  EXPECT_EQ(pairs[1].distractor, -1);
  EXPECT_EQ(pairs[1].position, 3);
  EXPECT_EQ(pairs[1].source, path + ":4");
}

TEST_F(PatchingDataset, BadRecordsNameFileLineAndField) {
  const Tokenizer* tok = &tokenizer_;
  EXPECT_THAT(error_of(R"({"clean": [1, 2], "corrupted": [1, 3], "answer": 5)", tok),
              HasSubstr("not valid JSON"));
  EXPECT_THAT(error_of("[1, 2, 3]", tok), HasSubstr("expected a JSON object"));
  EXPECT_THAT(error_of(R"({"corrupted": [1, 3], "answer": 5})", tok),
              HasSubstr("clean: missing; expected a text or a list of token ids"));
  EXPECT_THAT(error_of(R"({"clean": [1, 2], "answer": 5})", tok), HasSubstr("corrupted: missing"));
  EXPECT_THAT(error_of(R"({"clean": [1, 2], "corrupted": [1, 3]})", tok),
              HasSubstr("answer: missing; expected the text of one token or a token id"));
  EXPECT_THAT(error_of(R"({"clean": 7, "corrupted": [1, 3], "answer": 5})", tok),
              HasSubstr("clean: expected a text or a list of token ids, got number"));
  EXPECT_THAT(error_of(R"({"clean": [1, "a"], "corrupted": [1, 3], "answer": 5})", tok),
              HasSubstr("clean[1]: expected an integer token id, got string"));
  EXPECT_THAT(error_of(R"({"clean": [1, 2.5], "corrupted": [1, 3], "answer": 5})", tok),
              HasSubstr("clean[1]: expected an integer token id, got number"));
  EXPECT_THAT(error_of(R"({"clean": [1, 2], "corrupted": [1, 3, 4], "answer": 5})", tok),
              HasSubstr("corrupted: 3 tokens; expected as many as clean's 2"));
  EXPECT_THAT(error_of(R"({"clean": " alice went", "corrupted": " bob", "answer": 5})", tok),
              HasSubstr("corrupted: 1 tokens; expected as many as clean's 2"));
  EXPECT_THAT(error_of(R"({"clean": [1, 2], "corrupted": [1, 3], "answer": " alice bob"})", tok),
              HasSubstr("answer: \" alice bob\" is 2 tokens; expected the text of exactly one"));
  EXPECT_THAT(error_of(R"({"clean": [1, 2], "corrupted": [1, 3], "answer": [5]})", tok),
              HasSubstr("answer: expected the text of one token or a token id, got array"));
  EXPECT_THAT(
      error_of(R"({"clean": [1, 2], "corrupted": [1, 3], "answer": 5, "distractor": 99999})", tok),
      HasSubstr("distractor: token id 99999 is outside the model's vocabulary [0, 3128)"));
  EXPECT_THAT(error_of(R"({"clean": [-1, 2], "corrupted": [1, 3], "answer": 5})", tok),
              HasSubstr("clean[0]: token id -1 is outside"));
  EXPECT_THAT(error_of(R"({"clean": [], "corrupted": [], "answer": 5})", tok),
              HasSubstr("clean: empty; expected at least one token"));
  EXPECT_THAT(error_of(R"({"clean": "", "corrupted": "", "answer": 5})", tok),
              HasSubstr("clean: empty"));
  EXPECT_THAT(error_of(R"({"clean": [1, 2], "corrupted": [1, 3], "answer": 5, "colour": 1})", tok),
              HasSubstr("colour: unknown field; expected clean, corrupted, answer, distractor"));
  EXPECT_THAT(error_of(R"({"clean": " alice", "corrupted": " bob", "answer": 5})", nullptr),
              HasSubstr("clean: a text needs the model's tokenizer"));
  std::string long_ids = "[";
  for (int i = 0; i < 65; ++i) long_ids += (i ? ", " : "") + std::to_string(i);
  long_ids += "]";
  EXPECT_THAT(
      error_of(R"({"clean": )" + long_ids + R"(, "corrupted": )" + long_ids + R"(, "answer": 5})",
               tok),
      HasSubstr("clean: 65 tokens; expected at most the model's 64 positions"));
}

TEST_F(PatchingDataset, FileWithoutRecordsOrMissing) {
  const std::string blank = write("\n  \n\t\n");
  EXPECT_THAT(test::error_message<InvalidInput>(
                  [&] { read_patching_dataset(blank, config_, &tokenizer_); }),
              HasSubstr(blank + ": no records"));
  EXPECT_THROW(read_patching_dataset((dir_ / "missing.jsonl").string(), config_, &tokenizer_),
               IoError);
}

}  // namespace
}  // namespace headscope
