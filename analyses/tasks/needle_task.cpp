#include "analyses/tasks/needle_task.h"

#include <cmath>
#include <random>

#include "analyses/tasks/filler_grammar.h"
#include "analyses/tasks/task_random.h"
#include "analyses/tasks/task_template.h"
#include "analyses/tasks/task_tokens.h"
#include "analyses/tasks/vocabulary.h"
#include "analyses/tasks/word_lists.h"
#include "core/base/error.h"

namespace headscope {
namespace {

// {K} is the key (a name), {V} the value.
const std::vector<std::string>& needle_templates() {
  static const std::vector<std::string> list = {
      "the special number of {K} is {V} .",
      "{K} has a special number , and it is {V} .",
      "here is a fact to remember : the special number that belongs to {K} is {V} .",
      "do not forget that {K} chose {V} as the special number .",
      "in the notes there is an entry : {K} , special number {V} .",
  };
  return list;
}

constexpr const char* kQuestion = "\n question : what is the special number of {K} ? answer :";

// Sentences of filler holding exactly `budget` words; the last ones may be "\n".
std::vector<std::vector<std::string>> haystack(std::mt19937_64& rng, int64_t budget) {
  std::vector<std::vector<std::string>> sentences;
  int64_t used = 0;
  // A few draws before giving up on the gap: short templates usually fit.
  for (int misses = 0; misses < 8;) {
    std::vector<std::string> sentence = filler_sentence(rng);
    if (used + static_cast<int64_t>(sentence.size()) > budget) {
      ++misses;
      continue;
    }
    used += static_cast<int64_t>(sentence.size());
    sentences.push_back(std::move(sentence));
  }
  for (; used < budget; ++used) sentences.push_back({"\n"});
  return sentences;
}

}  // namespace

TaskSample needle_task(const TaskOptions& options) {
  if (options.length < kNeedleMinLength) {
    throw InvalidInput("needle_task: length " + std::to_string(options.length) +
                       " is below the minimum " + std::to_string(kNeedleMinLength));
  }
  if (!(options.depth >= 0.0 && options.depth <= 1.0)) {
    throw InvalidInput("needle_task: depth " + std::to_string(options.depth) +
                       " is outside [0, 1]");
  }
  const Vocabulary& vocab = Vocabulary::builtin();
  std::mt19937_64 rng(options.seed);

  const std::string& key = random_pick(rng, words::names());
  std::vector<std::string> value(4 + random_index(rng, 3));
  for (std::string& digit : value) digit = random_pick(rng, words::digits());
  const size_t template_idx = random_index(rng, needle_templates().size());
  const auto fill = [&](const std::string& slot) {
    return slot == "K" ? std::vector<std::string>{key} : value;
  };
  const FilledTemplate needle = fill_template(needle_templates()[template_idx], fill);
  const FilledTemplate question = fill_template(kQuestion, fill);

  const auto needle_size = static_cast<int64_t>(needle.words.size());
  const int64_t budget =
      options.length - 1 - needle_size - static_cast<int64_t>(question.words.size() + value.size());
  const std::vector<std::vector<std::string>> sentences = haystack(rng, budget);

  // The boundary (before sentence `split`) nearest the requested depth.
  const double target = options.depth * static_cast<double>(budget);
  size_t split = 0;
  double best = target;
  int64_t offset = 0;
  for (size_t idx = 0; idx < sentences.size(); ++idx) {
    offset += static_cast<int64_t>(sentences[idx].size());
    if (std::abs(static_cast<double>(offset) - target) < best) {
      best = std::abs(static_cast<double>(offset) - target);
      split = idx + 1;
    }
  }

  TaskSample sample;
  sample.task = "niah";
  sample.tokens.push_back(vocab.bos());
  for (size_t idx = 0; idx < split; ++idx) append_words(sample.tokens, sentences[idx]);
  const auto needle_begin = static_cast<int64_t>(sample.tokens.size());
  append_words(sample.tokens, needle.words);
  const int64_t needle_end = needle_begin + needle_size;
  for (size_t idx = split; idx < sentences.size(); ++idx)
    append_words(sample.tokens, sentences[idx]);
  const auto question_begin = static_cast<int64_t>(sample.tokens.size());
  append_words(sample.tokens, question.words);
  sample.answer_begin = static_cast<int64_t>(sample.tokens.size());
  append_words(sample.tokens, value);
  sample.answer_end = static_cast<int64_t>(sample.tokens.size());
  HS_ASSERT(sample.answer_end == options.length);

  if (needle_begin > 1) sample.filler.emplace_back(1, needle_begin);
  if (question_begin > needle_end) sample.filler.emplace_back(needle_end, question_begin);

  const int64_t key_begin = needle.spans.at("K").first;
  const auto [value_begin, value_end] = needle.spans.at("V");
  sample.corrupted = sample.tokens;
  std::string other = key;
  while (other == key) other = random_pick(rng, words::names());
  sample.corrupted[needle_begin + key_begin] = vocab.id(other);

  std::string value_text;
  for (const std::string& digit : value) value_text += (value_text.empty() ? "" : " ") + digit;
  sample.metadata = {{"depth", std::to_string(options.depth)},
                     {"length", std::to_string(options.length)},
                     {"template", std::to_string(template_idx)},
                     {"key", key},
                     {"value", value_text},
                     {"needle_begin", std::to_string(needle_begin)},
                     {"needle_end", std::to_string(needle_end)},
                     {"question_begin", std::to_string(question_begin)},
                     {"value_begin", std::to_string(needle_begin + value_begin)},
                     {"value_end", std::to_string(needle_begin + value_end)}};
  return sample;
}

}  // namespace headscope
