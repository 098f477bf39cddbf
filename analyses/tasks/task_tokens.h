// Appending words to a token sequence, shared by the task generators.
#pragma once

#include <string>
#include <vector>

#include "analyses/tasks/vocabulary.h"

namespace headscope {

inline void append_words(std::vector<int32_t>& tokens, const std::vector<std::string>& words) {
  const std::vector<int32_t> ids = Vocabulary::builtin().encode_words(words);
  tokens.insert(tokens.end(), ids.begin(), ids.end());
}

}  // namespace headscope
