#include "analyses/tasks/vocabulary.h"

#include <algorithm>
#include <cctype>

#include "analyses/tasks/word_lists.h"
#include "core/base/error.h"

namespace headscope {

const Vocabulary& Vocabulary::builtin() {
  static const Vocabulary vocabulary;
  return vocabulary;
}

Vocabulary::Vocabulary() {
  for (int byte = 0; byte < 256; ++byte) texts_.emplace_back(1, static_cast<char>(byte));
  texts_.insert(texts_.end(), {"<bos>", "<eos>", "<pad>"});
  HS_ASSERT(size() == kPad + 1);
  // Keyed by the spelled text with its leading space (" th"), so words share their prefixes.
  std::unordered_map<std::string, int32_t> pieces;
  for (const auto* list :
       {&words::punctuation(), &words::function_words(), &words::names(), &words::colors(),
        &words::objects(), &words::places(), &words::digits(), &words::nouns(),
        &words::transitive_verbs(), &words::intransitive_verbs(), &words::adjectives(),
        &words::adverbs(), &words::times(), &words::task_words()}) {
    for (const std::string& word : *list) add_word(word, pieces);
  }
}

void Vocabulary::add_word(const std::string& word,
                          std::unordered_map<std::string, int32_t>& pieces) {
  if (word_ids_.count(word)) return;
  std::string spelled = " ";
  int32_t left = ' ';
  for (const char c : word) {
    spelled += c;
    const auto [it, added] = pieces.emplace(spelled, size());
    if (added) {
      texts_.push_back(spelled.substr(1));
      merges_.emplace_back(left, static_cast<unsigned char>(c));
    }
    left = it->second;
  }
  word_ids_.emplace(word, left);
  if (std::all_of(word.begin(), word.end(), [](char c) { return std::isalpha(c) != 0; })) {
    letter_words_.push_back(left);
  }
}

int32_t Vocabulary::id(std::string_view word) const {
  const auto it = word_ids_.find(std::string(word));
  if (it == word_ids_.end()) {
    throw InvalidInput("Vocabulary::id: word \"" + std::string(word) +
                       "\" is not in the zoo vocabulary");
  }
  return it->second;
}

const std::string& Vocabulary::word(int32_t id) const {
  if (id < 0 || id >= size()) {
    throw InvalidInput("Vocabulary::word: id " + std::to_string(id) + " is outside [0, " +
                       std::to_string(size()) + ")");
  }
  return texts_[id];
}

std::vector<int32_t> Vocabulary::encode_words(const std::vector<std::string>& words) const {
  std::vector<int32_t> ids;
  ids.reserve(words.size());
  for (const std::string& w : words) ids.push_back(id(w));
  return ids;
}

std::string Vocabulary::render(const std::vector<int32_t>& ids) const {
  std::string text;
  for (const int32_t token : ids) {
    const std::string& spelled = word(token);
    if (token > kPad) text += ' ';
    text += spelled;
  }
  return text;
}

const std::vector<std::string>& Vocabulary::names() const {
  return words::names();
}
const std::vector<std::string>& Vocabulary::colors() const {
  return words::colors();
}
const std::vector<std::string>& Vocabulary::objects() const {
  return words::objects();
}
const std::vector<std::string>& Vocabulary::places() const {
  return words::places();
}
const std::vector<std::string>& Vocabulary::digits() const {
  return words::digits();
}

}  // namespace headscope
