// Runs a HookedModel with a per-head sparse config for as long as the scope lives: every
// plain causal pass (no KV cache) attends through kernels/sparse_attention.h.
//
//   ScopedSparseAttention sparse(hooked, config);
//   auto logits = hooked.forward(tokens);
#pragma once

#include <cstdint>

#include "core/checkpoint/sparse_model_config.h"
#include "hooks/hooked_model.h"

namespace headscope {

class ScopedSparseAttention {
 public:
  // InvalidInput when the config's shape differs from the model's, or the model already has an
  // attention override.
  ScopedSparseAttention(HookedModel& model, SparseModelConfig config);
  ~ScopedSparseAttention();
  ScopedSparseAttention(const ScopedSparseAttention&) = delete;
  ScopedSparseAttention& operator=(const ScopedSparseAttention&) = delete;

  // While on, each attended layer also adds its kept fraction of causal entries (mean over batch
  // and heads; 1 for all-full layers) to the running mean.
  void measure_kept(bool on) { measure_ = on; }
  double kept_fraction() const { return measured_ ? kept_sum_ / measured_ : 1.0; }
  // Layers that went through the override (all-full layers included), to detect passes the
  // model could not hand over (KV cache, sliding window shorter than the sequence).
  int64_t layers_attended() const { return attended_; }
  void reset_counters() { kept_sum_ = 0.0, measured_ = 0, attended_ = 0; }

 private:
  HookedModel& model_;
  SparseModelConfig config_;
  std::vector<bool> all_full_;  // per layer
  bool measure_ = false;
  double kept_sum_ = 0.0;
  int64_t measured_ = 0;
  int64_t attended_ = 0;
};

}  // namespace headscope
