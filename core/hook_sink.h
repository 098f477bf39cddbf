// The narrow interface through which a model fires hook points. hooks/ implements it
// (HookedModel); core only knows names and tensors.
#pragma once

#include <string>

#include <torch/types.h>

namespace headscope {

class HookSink {
 public:
  virtual ~HookSink() = default;
  // Whether any hook listens at `name`; lets the model skip work nobody reads
  // (e.g. per-head results) and keep the fused attention path when no one reads the pattern.
  virtual bool active(const std::string& name) const = 0;
  // Hands `value` to the hooks at `name`; returns it, or the replacement a hook returned.
  virtual torch::Tensor fire(const std::string& name, torch::Tensor value) = 0;
};

}  // namespace headscope
