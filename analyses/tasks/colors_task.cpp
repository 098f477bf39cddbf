#include "analyses/tasks/colors_task.h"

#include <random>

#include "analyses/tasks/task_random.h"
#include "analyses/tasks/task_template.h"
#include "analyses/tasks/task_tokens.h"
#include "analyses/tasks/vocabulary.h"
#include "analyses/tasks/word_lists.h"

namespace headscope {
namespace {

// {C0}..{C2} colors, {O0}..{O2} objects, {Q} the object asked about.
const std::vector<std::string>& colors_templates() {
  static const std::vector<std::string> list = {
      "on the table i see a {C0} {O0} , a {C1} {O1} and a {C2} {O2} . what color is the {Q} ?",
      "in the box there is a {C0} {O0} , a {C1} {O1} and a {C2} {O2} . what color is the {Q} ?",
      "near the door we find a {C0} {O0} , a {C1} {O1} and a {C2} {O2} . what color is the {Q} "
      "?",
      "the list says : a {C0} {O0} , a {C1} {O1} , a {C2} {O2} . what color is the {Q} ?",
  };
  return list;
}

}  // namespace

TaskSample colors_task(const TaskOptions& options) {
  constexpr size_t kItems = 3;
  const Vocabulary& vocab = Vocabulary::builtin();
  std::mt19937_64 rng(options.seed);
  const std::vector<size_t> colors = random_distinct(rng, words::colors().size(), kItems);
  const std::vector<size_t> objects = random_distinct(rng, words::objects().size(), kItems);
  const std::vector<size_t> order = random_distinct(rng, kItems, 2);
  const size_t query = order[0];
  const size_t other = order[1];
  const size_t template_idx = random_index(rng, colors_templates().size());

  const FilledTemplate prompt =
      fill_template(colors_templates()[template_idx], [&](const std::string& slot) {
        if (slot == "Q") return std::vector<std::string>{words::objects()[objects[query]]};
        const size_t item = static_cast<size_t>(slot[1] - '0');
        return std::vector<std::string>{slot[0] == 'C' ? words::colors()[colors[item]]
                                                       : words::objects()[objects[item]]};
      });

  TaskSample sample;
  sample.task = "colors";
  sample.tokens.push_back(vocab.bos());
  append_words(sample.tokens, prompt.words);
  sample.answer_begin = static_cast<int64_t>(sample.tokens.size());
  sample.tokens.push_back(vocab.id(words::colors()[colors[query]]));
  sample.answer_end = sample.answer_begin + 1;
  sample.distractor = vocab.id(words::colors()[colors[other]]);

  const int64_t query_pos = 1 + prompt.spans.at("Q").first;  // +1 for <bos>
  sample.corrupted = sample.tokens;
  sample.corrupted[query_pos] = vocab.id(words::objects()[objects[other]]);

  sample.metadata = {{"template", std::to_string(template_idx)},
                     {"query", std::to_string(query)},
                     {"other", std::to_string(other)},
                     {"query_pos", std::to_string(query_pos)}};
  return sample;
}

}  // namespace headscope
