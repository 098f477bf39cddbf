// A user's patching pairs: a JSON Lines file, one object per line,
//
//   {"clean": "When Mary and John went to the store, John gave a drink to",
//    "corrupted": "When Mary and John went to the store, Anna gave a drink to",
//    "answer": " Mary", "distractor": " John"}
//
// clean and corrupted are texts (tokenized with the model's tokenizer, no BOS added) or lists of
// token ids, of equal length in tokens; answer and distractor are the text of exactly one token
// or a token id; distractor may be left out (or null) when only prob, logprob or kl is wanted.
// Lines holding only whitespace are skipped. Pairs are scored at their last position.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "analyses/circuits/task_pairs.h"
#include "core/checkpoint/model_config.h"
#include "core/tokenizer/tokenizer.h"

namespace headscope {

// Every record is read and checked before any is used: InvalidInput "FILE:LINE: <field>: <what
// was expected>" for invalid JSON, a missing, unknown or mistyped field, texts given without a
// tokenizer (`tokenizer` null), an empty sequence, unequal lengths, an answer of several tokens,
// an id outside the model's vocabulary, or a prompt longer than its positions; and for a file
// without records. IoError when the file cannot be read.
std::vector<PatchingPair> read_patching_dataset(const std::string& path, const ModelConfig& config,
                                                const Tokenizer* tokenizer);

}  // namespace headscope
