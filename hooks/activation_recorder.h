// Records hook activations of one forward pass straight into an HDF5 run: each tensor is
// written when its hook fires and then dropped, so peak memory is one hook's tensor, not the
// whole cache.
#pragma once

#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/recording_writer.h"
#include "hooks/hooked_model.h"

namespace headscope {

struct RecordOptions {
  std::vector<std::string> hooks{"blocks.*.attn.hook_pattern"};  // names or globs
  DType dtype = DType::kF32;                                       // kF32 or kF16 on disk
  bool save_logits = false;

  RecordOptions& with_hooks(std::vector<std::string> h) { return hooks = std::move(h), *this; }
  RecordOptions& with_dtype(DType d) { return dtype = d, *this; }
  RecordOptions& with_logits(bool on) { return save_logits = on, *this; }
};

// ModelSummary for a recording's root attributes.
ModelSummary summarize(const Transformer& model);

// Runs `tokens` (one sequence) through `model` and writes every activation matching
// options.hooks into `run` without its batch axis (hook_pattern: [n_heads, T, T]).
// Does not commit the run.
void record_activations(HookedModel& model, const std::vector<int64_t>& tokens,
                        const RecordOptions& options, RunWriter& run);

}  // namespace headscope
