// Records attention statistics (kernels/attention_stats.h) layer by layer during one forward
// pass, into /runs/<i>/attention_stats/ of the format: per layer only q and k are kept, and the
// model itself keeps its fused / chunked attention, so memory stays linear in T.
#pragma once

#include "core/store/recording_writer.h"
#include "hooks/hooked_model.h"
#include "kernels/attention_stats.h"

namespace headscope {

class AttentionStatsRecorder {
 public:
  // Creates the datasets for a sequence of `seq_len` tokens and attaches the hooks; they stay
  // attached for this object's lifetime. `options.scale` and `sliding_window` are taken from
  // the model. With `overlap_writes`, a layer's statistics are compressed and written while
  // the next layers compute (RunWriter::defer_writes, with at most
  // stats_write_budget_bytes of them in flight); without, each layer is written before the
  // forward pass goes on.
  AttentionStatsRecorder(HookedModel& model, RunWriter& run, int64_t seq_len,
                         const AttentionStatsOptions& options, bool overlap_writes = true);

  // Writes what is still in flight; a write's error (IoError) surfaces here at the latest.
  void finish();

 private:
  void write_layer(int64_t layer, const torch::Tensor& q, const torch::Tensor& k);

  RunWriter& run_;
  AttentionStatsOptions options_;
  bool overlap_writes_;
  int64_t layers_;
  int64_t heads_;
  int64_t seq_len_;
  torch::Tensor pending_q_;  // the current layer's queries, until its keys arrive
  ScopedHooks hooks_;
};

}  // namespace headscope
