#include "analyses/retrieval/niah_prompt.h"

#include <cmath>
#include <random>

#include "analyses/tasks/filler_grammar.h"
#include "core/base/error.h"

namespace headscope {
namespace {

constexpr char kQuestionSlot[] = "{question}";

std::vector<int32_t> encode_part(const Tokenizer& tokenizer, const std::string& text) {
  return text.empty() ? std::vector<int32_t>{} : tokenizer.encode(text);
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// Whether a new sentence may start after `token`: it ends with sentence punctuation or is only
// whitespace (a paragraph break).
bool ends_sentence(const Tokenizer& tokenizer, int32_t token) {
  const std::string text = tokenizer.token_text(token);
  size_t end = text.size();
  while (end > 0 && is_space(text[end - 1])) --end;
  if (end == 0) return true;
  const char last = text[end - 1];
  return last == '.' || last == '!' || last == '?';
}

}  // namespace

TokenizedNeedle tokenize_needle(const Tokenizer& tokenizer, const Needle& needle,
                                const std::string& question_template) {
  check_needle(needle);
  const size_t slot = question_template.find(kQuestionSlot);
  if (slot == std::string::npos) {
    throw InvalidInput("question template '" + question_template + "' has no " + kQuestionSlot);
  }
  const std::string text =
      !needle.needle.empty() && is_space(needle.needle[0]) ? needle.needle : " " + needle.needle;
  size_t begin = text.find(needle.answer);
  size_t end = begin + needle.answer.size();
  // The answer's word carries the space before it, as it would inside the whole needle.
  while (begin > 0 && is_space(text[begin - 1])) --begin;

  TokenizedNeedle out;
  out.needle = encode_part(tokenizer, text.substr(0, begin));
  out.answer_begin = static_cast<int64_t>(out.needle.size());
  for (int32_t id : encode_part(tokenizer, text.substr(begin, end - begin))) {
    out.needle.push_back(id);
  }
  out.answer_end = static_cast<int64_t>(out.needle.size());
  for (int32_t id : encode_part(tokenizer, text.substr(end))) out.needle.push_back(id);
  if (out.answer_end == out.answer_begin) {
    throw InvalidInput(needle.source + ": the answer '" + needle.answer + "' has no tokens");
  }
  std::string question = question_template;
  question.replace(slot, std::string(kQuestionSlot).size(), needle.question);
  out.question = encode_part(tokenizer, question);
  return out;
}

std::vector<int32_t> haystack_tokens(const Tokenizer& tokenizer, const std::string& text,
                                     int64_t min_tokens) {
  const std::vector<int32_t> once = tokenizer.encode(text);
  if (once.empty()) throw InvalidInput("the haystack text has no tokens");
  std::vector<int32_t> tokens = once;
  if (static_cast<int64_t>(tokens.size()) >= min_tokens) return tokens;
  // Copies joined by a space, so the last word of one and the first of the next stay apart.
  const std::vector<int32_t> next = tokenizer.encode(" " + text);
  while (static_cast<int64_t>(tokens.size()) < min_tokens) {
    tokens.insert(tokens.end(), next.begin(), next.end());
  }
  return tokens;
}

std::string filler_haystack_text(int64_t words, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string text;
  int64_t count = 0;
  while (count < words) {
    for (const std::string& word : filler_sentence(rng)) {
      text += ' ';
      text += word;
      ++count;
    }
  }
  return text;
}

int64_t min_prompt_length(const TokenizedNeedle& needle, bool has_bos) {
  return (has_bos ? 1 : 0) + static_cast<int64_t>(needle.needle.size() + needle.question.size());
}

NiahPrompt build_niah_prompt(const Tokenizer& tokenizer, const TokenizedNeedle& needle,
                             const std::vector<int32_t>& haystack, int64_t length, double depth,
                             std::optional<int32_t> bos) {
  const int64_t fixed = min_prompt_length(needle, bos.has_value());
  if (length < fixed) {
    throw InvalidInput("a prompt of " + std::to_string(length) +
                       " tokens cannot hold the needle and question, which need " +
                       std::to_string(fixed));
  }
  if (!(depth >= 0.0 && depth <= 1.0)) {
    throw InvalidInput("depth " + std::to_string(depth) + " is outside [0, 1]");
  }
  const int64_t budget = length - fixed;
  HS_ASSERT(static_cast<int64_t>(haystack.size()) >= budget);
  auto insert_at = static_cast<int64_t>(std::floor(depth * static_cast<double>(budget)));
  while (insert_at > 0 && !ends_sentence(tokenizer, haystack[insert_at - 1])) --insert_at;

  NiahPrompt prompt;
  prompt.tokens.reserve(static_cast<size_t>(length));
  if (bos) prompt.tokens.push_back(*bos);
  prompt.tokens.insert(prompt.tokens.end(), haystack.begin(), haystack.begin() + insert_at);
  prompt.needle_begin = static_cast<int64_t>(prompt.tokens.size());
  prompt.answer_begin = prompt.needle_begin + needle.answer_begin;
  prompt.answer_end = prompt.needle_begin + needle.answer_end;
  prompt.tokens.insert(prompt.tokens.end(), needle.needle.begin(), needle.needle.end());
  prompt.tokens.insert(prompt.tokens.end(), haystack.begin() + insert_at,
                       haystack.begin() + budget);
  prompt.tokens.insert(prompt.tokens.end(), needle.question.begin(), needle.question.end());
  HS_ASSERT(static_cast<int64_t>(prompt.tokens.size()) == length);
  return prompt;
}

}  // namespace headscope
