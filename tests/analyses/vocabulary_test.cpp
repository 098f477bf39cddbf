#include "analyses/tasks/vocabulary.h"

#include <gtest/gtest.h>

#include <unistd.h>
#include <filesystem>
#include <set>

#include "analyses/tasks/generate_task.h"
#include "core/base/error.h"
#include "core/tokenizer/tokenizer.h"

namespace headscope {
namespace {

// Every word a metric reads, which must be one token of its own.
std::vector<std::string> metric_words() {
  const Vocabulary& vocab = Vocabulary::builtin();
  std::vector<std::string> all;
  for (const auto* list :
       {&vocab.names(), &vocab.colors(), &vocab.objects(), &vocab.places(), &vocab.digits()}) {
    all.insert(all.end(), list->begin(), list->end());
  }
  return all;
}

TEST(Vocabulary, HasTheWorldsWordLists) {
  const Vocabulary& vocab = Vocabulary::builtin();
  EXPECT_GE(vocab.names().size(), 60u);
  EXPECT_GE(vocab.colors().size(), 20u);
  EXPECT_GE(vocab.objects().size(), 40u);
  EXPECT_GE(vocab.places().size(), 20u);
  ASSERT_EQ(vocab.digits().size(), 10u);
  EXPECT_EQ(vocab.digits().front(), "zero");
  EXPECT_EQ(vocab.digits().back(), "nine");
  EXPECT_GE(vocab.letter_words().size(), 1000u);
}

TEST(Vocabulary, MetricWordsAreDistinctSingleTokens) {
  const Vocabulary& vocab = Vocabulary::builtin();
  std::set<int32_t> ids;
  for (const std::string& word : metric_words()) {
    const int32_t id = vocab.id(word);
    EXPECT_EQ(vocab.word(id), word);
    EXPECT_TRUE(ids.insert(id).second) << word << " shares a token with another metric word";
  }
}

TEST(Vocabulary, SpecialTokensAndErrors) {
  const Vocabulary& vocab = Vocabulary::builtin();
  EXPECT_EQ(vocab.word(vocab.bos()), "<bos>");
  EXPECT_EQ(vocab.word(vocab.eos()), "<eos>");
  EXPECT_EQ(vocab.word(vocab.pad()), "<pad>");
  EXPECT_EQ(vocab.render({vocab.bos(), vocab.id("the"), vocab.id("."), vocab.id("\n")}),
            "<bos> the . \n");
  try {
    vocab.id("zebracorn");
    FAIL() << "no error";
  } catch (const InvalidInput& error) {
    EXPECT_NE(std::string(error.what()).find("zebracorn"), std::string::npos);
  }
  EXPECT_THROW(vocab.word(vocab.size()), InvalidInput);
  EXPECT_THROW(vocab.word(-1), InvalidInput);
}

class VocabularyTokenizer : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::filesystem::path(std::filesystem::temp_directory_path() /
                                     ("headscope_vocabulary_" + std::to_string(getpid())));
    std::filesystem::create_directories(*dir_);
    Vocabulary::builtin().write_tokenizer_json((*dir_ / "tokenizer.json").string());
    tokenizer_ = new Tokenizer(Tokenizer::load(dir_->string()));
  }
  static void TearDownTestSuite() {
    delete tokenizer_;
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }

  static void expect_round_trip(const std::vector<int32_t>& ids) {
    const std::string text = Vocabulary::builtin().render(ids);
    EXPECT_EQ(tokenizer_->encode(text), ids) << text;
    EXPECT_EQ(tokenizer_->decode(ids), text);
  }

  static inline std::filesystem::path* dir_ = nullptr;
  static inline Tokenizer* tokenizer_ = nullptr;
};

TEST_F(VocabularyTokenizer, SizesAgree) {
  EXPECT_EQ(tokenizer_->vocab_size(), Vocabulary::builtin().size());
  EXPECT_EQ(tokenizer_->token_to_id("<bos>"), Vocabulary::builtin().bos());
  EXPECT_EQ(tokenizer_->token_piece(Vocabulary::builtin().id("the")), "\xC4\xA0the");  // "Ġthe"
}

TEST_F(VocabularyTokenizer, EveryWordIsItsOwnToken) {
  const Vocabulary& vocab = Vocabulary::builtin();
  std::vector<int32_t> all = vocab.letter_words();
  for (const char* mark : {".", ",", "?", ":", "\n"}) all.push_back(vocab.id(mark));
  for (const int32_t id : all) expect_round_trip({id});
  expect_round_trip(all);
}

TEST_F(VocabularyTokenizer, RepeatedNewlinesAndSpecialTokens) {
  const Vocabulary& vocab = Vocabulary::builtin();
  const int32_t newline = vocab.id("\n");
  expect_round_trip(
      {vocab.bos(), newline, newline, newline, vocab.id("the"), newline, vocab.eos(), vocab.pad()});
}

TEST_F(VocabularyTokenizer, SamplesOfEveryTaskRoundTrip) {
  for (const std::string& name : task_names()) {
    for (uint64_t seed = 0; seed < 5; ++seed) {
      const TaskSample sample = generate_task(name, TaskOptions().with_seed(seed).with_length(300));
      expect_round_trip(sample.tokens);
      expect_round_trip(sample.corrupted);
    }
  }
}

}  // namespace
}  // namespace headscope
