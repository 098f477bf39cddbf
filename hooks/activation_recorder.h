// Records one forward pass straight into an HDF5 run: each hooked tensor is written when its
// hook fires and then dropped, so peak memory is one hook's tensor, not the whole cache.
// Attention is recorded as full maps, as statistics (memory linear in T), or not at all.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/base/dtype.h"
#include "core/store/recording_writer.h"
#include "hooks/attention_stats_recorder.h"
#include "hooks/hooked_model.h"
#include "kernels/attention_stats.h"

namespace headscope {

enum class AttentionRecording : uint8_t {
  kFull,   // blocks.L.attn.hook_pattern [n_heads, T, T] per layer
  kStats,  // attention_stats/ (see kernels/attention_stats.h)
  kFullAndStats,
  kNone,
};

struct RecordOptions {
  std::vector<std::string> hooks;  // further hooks (names or globs) to store as they are
  AttentionRecording attention = AttentionRecording::kFull;
  AttentionStatsOptions stats;
  DType dtype = DType::kF32;  // kF32 or kF16 on disk for maps and activations
  bool save_logits = false;
  // Statistics compressed and written while later layers compute (AttentionStatsRecorder).
  bool overlap_writes = true;
  std::function<void(int64_t layer)> on_layer_done;  // progress reporting
  // Under tensor parallelism (docs/DISTRIBUTED.md): the whole value of a hook point from this
  // rank's share of it, gathered to the rank that writes (each rank calls it at the same
  // points, in forward order; the others get an undefined tensor). Unset in one process.
  std::function<torch::Tensor(HookPoint point, const torch::Tensor& share)> whole_value;
  // With whole_value: the same gather for attention statistics, whose first axis is the
  // rank's heads (AttentionStatsRecorder).
  WholeHeads whole_heads;

  RecordOptions& with_hooks(std::vector<std::string> h) { return hooks = std::move(h), *this; }
  RecordOptions& with_attention(AttentionRecording a) { return attention = a, *this; }
  RecordOptions& with_stats(AttentionStatsOptions s) { return stats = s, *this; }
  RecordOptions& with_dtype(DType d) { return dtype = d, *this; }
  RecordOptions& with_logits(bool on) { return save_logits = on, *this; }
  RecordOptions& with_overlap_writes(bool on) { return overlap_writes = on, *this; }
};

// ModelSummary for a recording's root attributes.
ModelSummary summarize(const Transformer& model);

// Runs `tokens` (one sequence) through `model` and writes what `options` asks for into `run`,
// without the batch axis (hook_pattern: [n_heads, T, T]). Does not commit the run.
void record_activations(HookedModel& model, const std::vector<int64_t>& tokens,
                        const RecordOptions& options, RunWriter& run);
// The same, writing only where `run` is not null: the ranks of a tensor-parallel recording that
// do not write still run the pass and the gathers of options.whole_value.
void record_activations(HookedModel& model, const std::vector<int64_t>& tokens,
                        const RecordOptions& options, RunWriter* run);

}  // namespace headscope
