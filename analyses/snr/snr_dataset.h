// A user's prompts for `headscope snr --dataset FILE.jsonl` (docs/SNR.md, "Your own prompts"):
// JSON Lines, one sample per line,
//
//   {"tokens": [5, 17, 230, ...], "queries": [{"position": 57, "relevant": [12, 13]}, ...]}
//
// tokens: the model's token ids; queries: the positions whose attention is measured, each with
// the key positions it needs (its relevant keys, at or before the position). Lines holding only
// whitespace are skipped.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "analyses/snr/snr_queries.h"
#include "analyses/tasks/task_sample.h"
#include "core/checkpoint/model_config.h"

namespace headscope {

struct SnrPrompts {
  std::vector<TaskSample> samples;  // task "dataset", tokens only
  std::vector<SnrQuery> queries;    // relevant keys sorted, duplicates dropped
  int64_t longest = 0;              // tokens of the longest sample
};

// Every record is read and checked before any is used: InvalidInput "FILE:LINE: <field>: <what
// was expected>" for invalid JSON, a missing, unknown or mistyped field, an empty token or query
// list, an id outside the model's vocabulary, a position outside the sample or a relevant key
// after its query; and for a file without records. IoError when the file cannot be read. The
// samples' length against the model's context is the caller's check (check_context).
SnrPrompts read_snr_dataset(const std::string& path, const ModelConfig& config);

}  // namespace headscope
