#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "analyses/tasks/generate_task.h"
#include "analyses/tasks/induction_task.h"
#include "analyses/tasks/ioi_task.h"
#include "analyses/tasks/needle_task.h"
#include "analyses/tasks/vocabulary.h"
#include "core/base/error.h"

namespace headscope {
namespace {

int64_t meta(const TaskSample& sample, const std::string& key) {
  return std::stoll(sample.metadata.at(key));
}

std::vector<int32_t> span(const std::vector<int32_t>& tokens, int64_t begin, int64_t end) {
  return {tokens.begin() + begin, tokens.begin() + end};
}

// Positions where the corrupted sequence differs from the clean one.
std::vector<int64_t> changed(const TaskSample& sample) {
  EXPECT_EQ(sample.corrupted.size(), sample.tokens.size());
  std::vector<int64_t> positions;
  for (size_t idx = 0; idx < sample.tokens.size(); ++idx) {
    if (sample.tokens[idx] != sample.corrupted[idx]) positions.push_back(static_cast<int64_t>(idx));
  }
  return positions;
}

TEST(Tasks, SameSeedSameSampleOtherSeedOther) {
  for (const std::string& name : task_names()) {
    const TaskOptions options = TaskOptions().with_seed(11).with_length(256);
    const TaskSample a = generate_task(name, options);
    const TaskSample b = generate_task(name, options);
    EXPECT_EQ(a.tokens, b.tokens) << name;
    EXPECT_EQ(a.corrupted, b.corrupted) << name;
    EXPECT_EQ(a.metadata, b.metadata) << name;
    EXPECT_EQ(a.task, name);
    EXPECT_NE(generate_task(name, TaskOptions(options).with_seed(12)).tokens, a.tokens) << name;
  }
}

TEST(Tasks, AnswerSpansAreInRangeAndEndTheSample) {
  for (const std::string& name : task_names()) {
    for (uint64_t seed = 0; seed < 20; ++seed) {
      const TaskSample s = generate_task(name, TaskOptions().with_seed(seed).with_length(200));
      EXPECT_EQ(s.tokens.front(), Vocabulary::builtin().bos());
      EXPECT_GT(s.answer_begin, 0);
      EXPECT_LT(s.answer_begin, s.answer_end);
      EXPECT_EQ(s.answer_end, static_cast<int64_t>(s.tokens.size()));
    }
  }
}

TEST(Tasks, UnknownNameListsTheValidOnes) {
  try {
    generate_task("maze", TaskOptions());
    FAIL() << "no error";
  } catch (const InvalidInput& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("maze"), std::string::npos);
    EXPECT_NE(message.find("niah|ioi|colors|induction"), std::string::npos);
  }
}

TEST(NeedleTask, AnswerIsTheNeedleValue) {
  const Vocabulary& vocab = Vocabulary::builtin();
  std::set<std::string> templates;
  for (uint64_t seed = 0; seed < 40; ++seed) {
    const TaskSample s = needle_task(TaskOptions().with_seed(seed).with_length(512));
    const int64_t value_begin = meta(s, "value_begin");
    const int64_t value_end = meta(s, "value_end");
    ASSERT_GE(value_end - value_begin, 4);
    ASSERT_LE(value_end - value_begin, 6);
    EXPECT_GE(value_begin, meta(s, "needle_begin"));
    EXPECT_LE(value_end, meta(s, "needle_end"));
    EXPECT_EQ(span(s.tokens, value_begin, value_end), span(s.tokens, s.answer_begin, s.answer_end));
    EXPECT_EQ(vocab.render(span(s.tokens, s.answer_begin, s.answer_end)),
              " " + s.metadata.at("value"));
    // The key is asked about and named only in the needle; corruption renames it there.
    const int32_t key = vocab.id(s.metadata.at("key"));
    int64_t key_uses = 0;
    for (const int32_t token : s.tokens) key_uses += token == key;
    EXPECT_EQ(key_uses, 2);
    const std::vector<int64_t> diff = changed(s);
    ASSERT_EQ(diff.size(), 1u);
    EXPECT_GE(diff[0], meta(s, "needle_begin"));
    EXPECT_LT(diff[0], meta(s, "needle_end"));
    EXPECT_EQ(s.tokens[diff[0]], key);
    templates.insert(s.metadata.at("template"));
  }
  EXPECT_GE(templates.size(), 4u);
}

TEST(NeedleTask, DepthPlacesTheNeedle) {
  const Vocabulary& vocab = Vocabulary::builtin();
  const auto at = [](double depth) {
    return needle_task(TaskOptions().with_seed(5).with_length(1024).with_depth(depth));
  };
  EXPECT_EQ(meta(at(0.0), "needle_begin"), 1);
  const TaskSample end = at(1.0);
  // Only paragraph breaks may sit between the needle and the question.
  int64_t pos = meta(end, "needle_end");
  while (end.tokens[pos] == vocab.id("\n")) ++pos;
  EXPECT_EQ(end.tokens[pos], vocab.id("question"));
  const TaskSample middle = at(0.5);
  int64_t haystack = 0;
  for (const auto& [begin, stop] : middle.filler) haystack += stop - begin;
  // Within half the longest sentence of the middle of the haystack (which starts after <bos>).
  EXPECT_NEAR(static_cast<double>(meta(middle, "needle_begin") - 1), haystack / 2.0, 10.0);
  // At a sentence boundary: the needle follows a full stop or a paragraph break.
  const int32_t before = middle.tokens[meta(middle, "needle_begin") - 1];
  EXPECT_TRUE(before == vocab.id(".") || before == vocab.id("\n"));
  EXPECT_THROW(at(1.5), InvalidInput);
  EXPECT_THROW(at(-0.1), InvalidInput);
}

TEST(NeedleTask, LengthIsExactAndFillerCoversTheHaystack) {
  for (const int64_t length : {128, 257, 1000, 2048, 4096}) {
    for (const double depth : {0.0, 0.3, 1.0}) {
      const TaskSample s = needle_task(TaskOptions()
                                           .with_seed(static_cast<uint64_t>(length))
                                           .with_length(length)
                                           .with_depth(depth));
      EXPECT_EQ(static_cast<int64_t>(s.tokens.size()), length);
      int64_t filler = 0;
      for (const auto& [begin, end] : s.filler) {
        EXPECT_LT(begin, end);
        filler += end - begin;
        EXPECT_TRUE(end <= meta(s, "needle_begin") || begin >= meta(s, "needle_end"));
      }
      EXPECT_GT(filler, length / 2);
    }
  }
  EXPECT_THROW(needle_task(TaskOptions().with_length(kNeedleMinLength - 1)), InvalidInput);
}

TEST(NeedleTask, HaystackSentencesVary) {
  const Vocabulary& vocab = Vocabulary::builtin();
  const TaskSample s = needle_task(TaskOptions().with_seed(3).with_length(2048));
  std::set<std::vector<int32_t>> sentences;
  std::vector<int32_t> current;
  for (const auto& [begin, end] : s.filler) {
    for (int64_t pos = begin; pos < end; ++pos) {
      current.push_back(s.tokens[pos]);
      if (s.tokens[pos] == vocab.id(".")) {
        sentences.insert(current);
        current.clear();
      }
    }
  }
  EXPECT_GT(sentences.size(), 100u);
}

TEST(IoiTask, AnswerIsTheIndirectObject) {
  const Vocabulary& vocab = Vocabulary::builtin();
  std::set<std::string> orders;
  std::set<std::string> templates;
  for (uint64_t seed = 0; seed < 40; ++seed) {
    const TaskSample s = ioi_task(TaskOptions().with_seed(seed));
    ASSERT_EQ(s.answer_end - s.answer_begin, 1);
    const int32_t io = vocab.id(s.metadata.at("io"));
    const int32_t subject = vocab.id(s.metadata.at("s"));
    EXPECT_EQ(s.tokens[s.answer_begin], io);
    EXPECT_EQ(s.distractor, subject);
    EXPECT_NE(io, subject);
    EXPECT_EQ(s.tokens[meta(s, "io_pos")], io);
    EXPECT_EQ(s.tokens[meta(s, "s1_pos")], subject);
    EXPECT_EQ(s.tokens[meta(s, "s2_pos")], subject);
    EXPECT_EQ(s.metadata.at("order") == "ABBA", meta(s, "io_pos") < meta(s, "s1_pos"));
    const std::vector<int64_t> diff = changed(s);
    ASSERT_EQ(diff, std::vector<int64_t>{meta(s, "s2_pos")});
    const int32_t third = vocab.id(s.metadata.at("c"));
    EXPECT_EQ(s.corrupted[diff[0]], third);
    EXPECT_NE(third, io);
    EXPECT_NE(third, subject);
    orders.insert(s.metadata.at("order"));
    templates.insert(s.metadata.at("template"));
  }
  EXPECT_EQ(orders.size(), 2u);
  EXPECT_GE(templates.size(), 4u);
}

TEST(ColorsTask, AnswerIsTheQueriedObjectsColor) {
  const Vocabulary& vocab = Vocabulary::builtin();
  for (uint64_t seed = 0; seed < 40; ++seed) {
    const TaskSample s = generate_task("colors", TaskOptions().with_seed(seed));
    ASSERT_EQ(s.answer_end - s.answer_begin, 1);
    const int64_t query_pos = meta(s, "query_pos");
    // The color stands right before its object in the list.
    int64_t listed = -1;
    int64_t other_listed = -1;
    for (int64_t pos = 1; pos < query_pos; ++pos) {
      if (s.tokens[pos] == s.tokens[query_pos]) listed = pos;
      if (s.tokens[pos] == s.corrupted[query_pos]) other_listed = pos;
    }
    ASSERT_GT(listed, 0);
    ASSERT_GT(other_listed, 0);
    EXPECT_EQ(s.tokens[s.answer_begin], s.tokens[listed - 1]);
    EXPECT_EQ(s.distractor, s.tokens[other_listed - 1]);
    EXPECT_NE(s.distractor, s.tokens[s.answer_begin]);
    EXPECT_EQ(changed(s), std::vector<int64_t>{query_pos});
    const std::string& color = vocab.word(s.tokens[s.answer_begin]);
    EXPECT_NE(std::find(vocab.colors().begin(), vocab.colors().end(), color), vocab.colors().end());
  }
}

TEST(InductionTask, SecondHalfRepeatsTheFirst) {
  for (const int64_t length : {5, 64, 1025}) {
    const TaskSample s = induction_task(TaskOptions().with_seed(9).with_length(length));
    const int64_t repeat = (length - 1) / 2;
    ASSERT_EQ(static_cast<int64_t>(s.tokens.size()), 1 + 2 * repeat);
    EXPECT_EQ(meta(s, "repeat_begin"), 1 + repeat);
    EXPECT_EQ(s.answer_begin, 2 + repeat);
    EXPECT_EQ(span(s.tokens, 2, 1 + repeat), span(s.tokens, s.answer_begin, s.answer_end));
    for (const int64_t pos : changed(s)) EXPECT_LT(pos, 1 + repeat);
    EXPECT_EQ(span(s.corrupted, 1 + repeat, 1 + 2 * repeat),
              span(s.tokens, 1 + repeat, 1 + 2 * repeat));
  }
  EXPECT_THROW(induction_task(TaskOptions().with_length(4)), InvalidInput);
}

}  // namespace
}  // namespace headscope
