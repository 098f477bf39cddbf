// Needle-in-a-haystack prompts for retrieval-head detection, built in token space as
// Retrieval_Head does: the haystack is cut to fit, the needle goes in at depth x haystack length,
// moved back to the start of the sentence there, and the question follows the haystack.
//
//   [bos] haystack[0, i) needle haystack[i, budget) question_template(question)
//
// The prompt has exactly `length` tokens. The needle is tokenized in three parts (before the
// answer, the answer, after it), so the answer's token span is known exactly instead of being
// searched for.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "analyses/retrieval/needles.h"
#include "core/tokenizer/tokenizer.h"

namespace headscope {

// A needle and its question, tokenized once for every prompt that uses them.
struct TokenizedNeedle {
  std::vector<int32_t> needle;
  int64_t answer_begin = 0;  // the answer's tokens inside `needle`, [begin, end)
  int64_t answer_end = 0;
  std::vector<int32_t> question;  // the question template filled in
};

// `question_template` must contain "{question}" (InvalidInput otherwise). A needle that does not
// start with whitespace gets one leading space, so that it stays apart from the haystack word
// before it. InvalidInput naming needle.source when the answer is not in the needle or covers
// no token of its own.
TokenizedNeedle tokenize_needle(const Tokenizer& tokenizer, const Needle& needle,
                                const std::string& question_template);

// The haystack's tokens, repeated (with a space between copies) until there are at least
// `min_tokens`. InvalidInput when the text has no tokens.
std::vector<int32_t> haystack_tokens(const Tokenizer& tokenizer, const std::string& text,
                                     int64_t min_tokens);

// Text of the built-in filler grammar (analyses/tasks/filler_grammar.h) with at least `words`
// words, each with a leading space, as the zoo vocabulary renders it; the same seed gives the
// same text.
std::string filler_haystack_text(int64_t words, uint64_t seed);

struct NiahPrompt {
  std::vector<int32_t> tokens;
  int64_t needle_begin = 0;  // the needle's tokens in the prompt
  int64_t answer_begin = 0;  // the answer span [answer_begin, answer_end) that heads copy from
  int64_t answer_end = 0;
};

// The smallest prompt length that fits the needle and question (no haystack).
int64_t min_prompt_length(const TokenizedNeedle& needle, bool has_bos);

// haystack: at least length - min_prompt_length tokens. depth in [0, 1]. InvalidInput when
// `length` is below min_prompt_length.
NiahPrompt build_niah_prompt(const Tokenizer& tokenizer, const TokenizedNeedle& needle,
                             const std::vector<int32_t>& haystack, int64_t length, double depth,
                             std::optional<int32_t> bos);

}  // namespace headscope
