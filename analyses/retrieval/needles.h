// Needles for retrieval-head detection: a sentence hidden in a haystack, the question that asks
// for it, and the answer, the part of the needle the model must copy (Retrieval_Head's
// "real_needle"); the answer must occur verbatim in the needle.
#pragma once

#include <string>
#include <vector>

namespace headscope {

struct Needle {
  std::string needle;
  std::string question;
  std::string answer;
  std::string source;  // where it came from, for error messages ("needles.jsonl:3")
};

// Our own needles, written with the zoo vocabulary's words (analyses/tasks/word_lists.h) so that
// zoo models, which know no other words, can read and answer them.
const std::vector<Needle>& builtin_needles();

// One JSON object per line with string fields needle, question and answer ("real_needle" is
// read as answer, for Retrieval_Head's needles.jsonl); blank lines are skipped. IoError when
// the file cannot be read; InvalidInput naming the file and line for bad JSON, a missing or
// non-string field, an answer that is not part of its needle, or a file without needles.
std::vector<Needle> load_needles_jsonl(const std::string& path);

// Checks one needle (the same rules as the file); InvalidInput naming needle.source.
void check_needle(const Needle& needle);

// The text of a haystack file: IoError when it cannot be read, InvalidInput when it is empty.
std::string load_haystack_text(const std::string& path);

}  // namespace headscope
