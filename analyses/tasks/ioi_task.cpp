#include "analyses/tasks/ioi_task.h"

#include <random>

#include "analyses/tasks/task_random.h"
#include "analyses/tasks/task_template.h"
#include "analyses/tasks/task_tokens.h"
#include "analyses/tasks/vocabulary.h"
#include "analyses/tasks/word_lists.h"

namespace headscope {
namespace {

// {A} and {B} are the first two names (IO and S in either order), {S} the giver.
const std::vector<std::string>& ioi_templates() {
  static const std::vector<std::string> list = {
      "when {A} and {B} went to the {P} , {S} gave a {O} to",
      "after {A} and {B} reached the {P} , {S} handed the {O} to",
      "while {A} and {B} were at the {P} , {S} passed a {O} to",
      "{A} and {B} walked into the {P} . later {S} offered a {O} to",
      "then {A} and {B} got to the {P} , and {S} tossed the {O} to",
  };
  return list;
}

}  // namespace

TaskSample ioi_task(const TaskOptions& options) {
  const Vocabulary& vocab = Vocabulary::builtin();
  std::mt19937_64 rng(options.seed);
  const std::vector<size_t> picked = random_distinct(rng, words::names().size(), 3);
  const std::string& io = words::names()[picked[0]];
  const std::string& s = words::names()[picked[1]];
  const std::string& c = words::names()[picked[2]];
  const bool abba = random_index(rng, 2) == 0;
  const size_t template_idx = random_index(rng, ioi_templates().size());
  const std::string& place = random_pick(rng, words::places());
  const std::string& object = random_pick(rng, words::objects());

  const FilledTemplate prompt =
      fill_template(ioi_templates()[template_idx], [&](const std::string& slot) {
        if (slot == "A") return std::vector<std::string>{abba ? io : s};
        if (slot == "B") return std::vector<std::string>{abba ? s : io};
        if (slot == "S") return std::vector<std::string>{s};
        if (slot == "P") return std::vector<std::string>{place};
        return std::vector<std::string>{object};
      });

  TaskSample sample;
  sample.task = "ioi";
  sample.tokens.push_back(vocab.bos());
  append_words(sample.tokens, prompt.words);
  sample.answer_begin = static_cast<int64_t>(sample.tokens.size());
  sample.tokens.push_back(vocab.id(io));
  sample.answer_end = sample.answer_begin + 1;
  sample.distractor = vocab.id(s);

  // Positions shift by one for <bos>.
  const int64_t io_pos = 1 + prompt.spans.at(abba ? "A" : "B").first;
  const int64_t s1_pos = 1 + prompt.spans.at(abba ? "B" : "A").first;
  const int64_t s2_pos = 1 + prompt.spans.at("S").first;
  sample.corrupted = sample.tokens;
  sample.corrupted[s2_pos] = vocab.id(c);

  sample.metadata = {{"template", std::to_string(template_idx)},
                     {"order", abba ? "ABBA" : "BABA"},
                     {"io", io},
                     {"s", s},
                     {"c", c},
                     {"io_pos", std::to_string(io_pos)},
                     {"s1_pos", std::to_string(s1_pos)},
                     {"s2_pos", std::to_string(s2_pos)}};
  return sample;
}

}  // namespace headscope
