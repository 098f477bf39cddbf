// Records attention statistics (kernels/attention_stats.h) layer by layer during one forward
// pass, into /runs/<i>/attention_stats/ of the format: per layer only q and k are kept, and the
// attention stays fused / chunked, so memory stays linear in T. Where attention_with_stats()
// has a fused path (CUDA, 16-bit, causal), the recorder replaces the model's attention with it:
// the fused attention's log-sum-exp lets one pass over the scores make every statistic.
#pragma once

#include <functional>
#include <memory>

#include "core/store/recording_writer.h"
#include "hooks/hooked_model.h"
#include "hooks/host_copy.h"
#include "kernels/attention_stats.h"

namespace headscope {

// Under tensor parallelism: a statistic of this rank's heads (head axis first) made whole, every
// head's in head order, on the rank that writes (undefined on the others). Every rank calls it
// with the same statistics in the same order.
using WholeHeads = std::function<torch::Tensor(const torch::Tensor& share)>;

class AttentionStatsRecorder {
 public:
  // Creates the datasets for a sequence of `seq_len` tokens and attaches the hooks; they stay
  // attached for this object's lifetime. `options.scale` and `sliding_window` are taken from
  // the model. With `overlap_writes`, a layer's statistics are compressed and written while
  // the next layers compute (RunWriter::defer_writes, with at most
  // stats_write_budget_bytes of them in flight); without, each layer is written before the
  // forward pass goes on. With `whole_heads` (a tensor-parallel model, whose hooks see the
  // rank's heads) each rank computes its heads' statistics and they are gathered whole before
  // they are written; `run` is null on the ranks that do not write.
  AttentionStatsRecorder(HookedModel& model, RunWriter* run, int64_t seq_len,
                         const AttentionStatsOptions& options, bool overlap_writes = true,
                         WholeHeads whole_heads = {});

  // Writes what is still in flight; a write's error (IoError) surfaces here at the latest.
  void finish();

 private:
  // Clears the model's attention override when the recorder goes.
  class AttentionOverrideScope {
   public:
    explicit AttentionOverrideScope(HookedModel& model) : model_(model) {}
    AttentionOverrideScope(const AttentionOverrideScope&) = delete;
    AttentionOverrideScope& operator=(const AttentionOverrideScope&) = delete;
    ~AttentionOverrideScope() { model_.set_attention_override({}); }

   private:
    HookedModel& model_;
  };

  void create_datasets(const ModelConfig& c);
  void write_layer(int64_t layer, const AttentionStats& stats);
  HostCopier* copier() { return overlap_writes_ ? &copier_ : nullptr; }

  RunWriter* run_;
  AttentionStatsOptions options_;
  bool overlap_writes_;
  HostCopier copier_;  // the overlapped writes' device-to-host copies
  WholeHeads whole_heads_;
  int64_t layers_;
  int64_t heads_;
  int64_t seq_len_;
  torch::Tensor pending_q_, pending_k_;  // the current layer's, until its statistics are made
  ScopedHooks hooks_;
  std::unique_ptr<AttentionOverrideScope> override_;
};

}  // namespace headscope
