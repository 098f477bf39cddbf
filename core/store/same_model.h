// One answer, for every command that writes into an existing recording, to "was this file
// recorded from this model?" (docs/FORMAT.md, "Which model a file belongs to").
#pragma once

#include <string>

#include "core/store/recording_schema.h"

namespace headscope {

// "llama, 2 layers x 4 heads (2 kv), d_head 16, d_model 64, vocab 256, from PATH".
std::string describe_model(const ModelSummary& model);

// Whether two summaries describe one model: the same family, n_layers, n_heads, n_kv_heads,
// d_head, d_model and vocab_size, and the same config.json once the keys that only say who
// saved it (_name_or_path, transformers_version) are left out. The model path is not
// compared: a checkpoint moved or named by another path is the same model. A recorded config
// text that is empty (files written before it was stored) is not compared.
bool same_model(const ModelSummary& recorded, const ModelSummary& model);

// InvalidInput "PATH holds a recording of MODEL; this is MODEL" unless same_model.
void check_same_model(const std::string& path, const ModelSummary& recorded,
                      const ModelSummary& model);

// Opens the recording at path read-only and checks its model as above; the errors of
// RecordingReader::open when it is not a readable recording.
void check_recording_model(const std::string& path, const ModelSummary& model);

// InvalidInput naming the run, the dataset and the axis when a committed run holds a dataset
// whose layer, head, kv_head, d_head, d_model or vocab axis disagrees with the root attributes,
// or token ids outside the vocabulary: runs of another model added by a headscope that did not
// check --append.
void check_runs_match_model(const std::string& path);

}  // namespace headscope
