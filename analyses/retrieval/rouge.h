// ROUGE-1 recall, the acceptance test of retrieval-head detection: the fraction of the
// reference's words that the candidate contains (counts clipped), after the normalisation of the
// rouge_score package: lowercase, every character outside [a-z0-9] a separator. No stemming
// (rouge_score's use_stemmer folds inflections such as "parks" -> "park"; the built-in needles'
// answers are names and digit words, which it leaves alone).
#pragma once

#include <string>
#include <vector>

namespace headscope {

// The words ROUGE compares.
std::vector<std::string> rouge_words(const std::string& text);

// In [0, 1]; 0 when the reference has no words.
double rouge1_recall(const std::string& reference, const std::string& candidate);

}  // namespace headscope
