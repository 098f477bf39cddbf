// The narrow interface through which a model fires hook points. hooks/ implements it
// (HookedModel); core only knows hook points (core/model/hook_names.h) and tensors.
#pragma once

#include <cstdint>
#include <optional>

#include <torch/types.h>

#include "core/model/hook_names.h"

namespace headscope {

class HookSink {
 public:
  virtual ~HookSink() = default;
  // Whether any hook listens at `point`; lets the model skip work nobody reads (e.g. per-head
  // results) and keep the fused attention path when no one reads the pattern. Asked at every
  // point of every forward pass, so it must be cheap (no name lookups).
  virtual bool active(HookPoint point) const = 0;
  // Hands `value` to the hooks at `point`; returns it, or the replacement a hook returned.
  virtual torch::Tensor fire(HookPoint point, torch::Tensor value) = 0;
  // Replaces the attention of `layer` (per-head sparse attention, for one) in a pass that is
  // plain causal self-attention: no KV cache, no sliding window shorter than the sequence, no
  // hook reading attn_scores or pattern. q: [B, H, T, D] with rotary applied; k, v:
  // [B, Hkv, T, D], not repeated for GQA. Returns z [B, H, T, D], or nullopt for the model's own
  // attention.
  virtual std::optional<torch::Tensor> attend(int64_t layer, const torch::Tensor& q,
                                              const torch::Tensor& k, const torch::Tensor& v,
                                              double scale) {
    return std::nullopt;
  }
};

}  // namespace headscope
