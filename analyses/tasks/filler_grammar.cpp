#include "analyses/tasks/filler_grammar.h"

#include "analyses/tasks/task_random.h"
#include "analyses/tasks/task_template.h"
#include "analyses/tasks/word_lists.h"

namespace headscope {
namespace {

// Slots: {A} adjective, {N} noun, {T} transitive verb, {I} intransitive verb, {D} adverb,
// {P} place, {O} object, {C} color, {M} time.
const std::vector<std::string>& sentence_templates() {
  static const std::vector<std::string> list = {
      "the {A} {N} {T} the {N} near the {P} .",
      "a {N} {I} {D} in the {P} .",
      "in the {M} , the {N} {T} a {C} {O} .",
      "there was a {A} {N} at the {P} , and it was very {A} .",
      "every {M} the {N} {I} {D} .",
      "the {N} said that the {O} was {A} .",
      "a {A} {N} and a {A} {N} {I} by the {P} .",
      "after the {M} , the {N} {T} the {A} {O} and {I} .",
      "the {N} {T} its {O} because it was {A} .",
      "when the {N} {I} , the {N} {I} too .",
      "the {P} was {A} and {A} that {M} .",
      "some {A} {N} {T} the {N} behind the {P} .",
      "we {T} a {A} {O} on {M} .",
      "the {N} {D} {T} the {N} .",
      "it was {A} , so the {N} {I} {D} .",
      "they {I} across the {P} with a {C} {O} .",
  };
  return list;
}

const std::vector<std::string>& slot_words(const std::string& slot) {
  if (slot == "A") return words::adjectives();
  if (slot == "N") return words::nouns();
  if (slot == "T") return words::transitive_verbs();
  if (slot == "I") return words::intransitive_verbs();
  if (slot == "D") return words::adverbs();
  if (slot == "P") return words::places();
  if (slot == "O") return words::objects();
  if (slot == "C") return words::colors();
  HS_ASSERT(slot == "M");
  return words::times();
}

}  // namespace

std::vector<std::string> filler_sentence(std::mt19937_64& rng) {
  const std::string& pattern = random_pick(rng, sentence_templates());
  std::vector<std::string> sentence =
      fill_template(pattern, [&rng](const std::string& slot) {
        return std::vector<std::string>{random_pick(rng, slot_words(slot))};
      }).words;
  if (random_index(rng, 8) == 0) sentence.emplace_back("\n");
  return sentence;
}

}  // namespace headscope
