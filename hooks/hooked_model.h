// HookedModel: runs a Transformer and lets callers read (cache) or replace (intervene on) the
// tensor at any hook point, selected by exact name or glob ("blocks.*.attn.hook_pattern") or by
// id (HookPoint). Names are resolved to ids when a hook is added; firing looks up nothing.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <torch/types.h>

#include "core/model/hook_sink.h"
#include "core/model/kv_cache.h"
#include "core/model/transformer.h"

namespace headscope {

struct HookContext {
  const std::string& name;
  HookPoint point;
  int64_t position_offset;  // position of the first token in this forward pass (KV cache length)
};

// Returns a replacement for `value`, or nullopt to leave it unchanged. A replacement must keep
// the shape.
using HookFn = std::function<std::optional<torch::Tensor>(const torch::Tensor& value,
                                                          const HookContext& context)>;

class ActivationCache {
 public:
  void put(const std::string& name, torch::Tensor value) { values_[name] = std::move(value); }
  bool contains(const std::string& name) const { return values_.count(name) != 0; }
  // Throws InvalidInput naming the hook when it was not cached.
  const torch::Tensor& at(const std::string& name) const;
  const std::map<std::string, torch::Tensor>& values() const { return values_; }

 private:
  std::map<std::string, torch::Tensor> values_;
};

// Computes z [B, H, T, D] from q [B, H, T, D] and un-repeated k, v [B, Hkv, T, D] for one layer,
// or returns nullopt to leave that layer's attention to the model (see HookSink::attend).
using AttentionOverride = std::function<std::optional<torch::Tensor>(
    int64_t layer, const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
    double scale)>;

class HookedModel : public HookSink {
 public:
  using HookId = int64_t;

  explicit HookedModel(std::shared_ptr<const Transformer> model);

  // Attaches `fn` to every hook point matching `name_or_glob` (fnmatch syntax). Throws
  // InvalidInput when nothing matches, listing a few valid names.
  HookId add_hook(const std::string& name_or_glob, HookFn fn);
  // Attaches `fn` to one point, which this model must fire (not rot_q without rotary, say).
  HookId add_hook(HookPoint point, HookFn fn);
  void remove_hook(HookId id);
  void clear_hooks();

  // Every hook point of this model in forward order, and those matching a glob.
  const std::vector<std::string>& hook_points() const { return points_; }
  std::vector<std::string> match(const std::string& name_or_glob) const;

  torch::Tensor forward(const torch::Tensor& tokens, KVCache* cache = nullptr,
                        LogitPositions positions = LogitPositions::kAll);

  // Transformer::forward_from with this model's hooks (the layers from `first_layer` on).
  torch::Tensor forward_from(int64_t first_layer, const torch::Tensor& resid_pre,
                             LogitPositions positions = LogitPositions::kAll);

  // Forward pass that also stores every activation matching one of `filters` in `cache`
  // (batch-leading shapes, detached unless `keep_graph`); `positions` as in forward (a cache of
  // a long batch rarely wants every position's logits).
  torch::Tensor run_with_cache(const torch::Tensor& tokens, const std::vector<std::string>& filters,
                               ActivationCache& cache, bool keep_graph = false,
                               LogitPositions positions = LogitPositions::kAll);

  // Replaces the attention of plain causal passes (no KV cache, no pattern hook) until reset
  // with an empty function; one override at a time.
  void set_attention_override(AttentionOverride fn) { attention_override_ = std::move(fn); }
  bool has_attention_override() const { return static_cast<bool>(attention_override_); }

  const Transformer& model() const { return *model_; }
  std::shared_ptr<const Transformer> model_ptr() const { return model_; }

  bool active(HookPoint point) const override;
  torch::Tensor fire(HookPoint point, torch::Tensor value) override;
  std::optional<torch::Tensor> attend(int64_t layer, const torch::Tensor& q, const torch::Tensor& k,
                                      const torch::Tensor& v, double scale) override;

 private:
  struct Hook {
    HookId id;
    std::string label;  // the name or glob it was added with, for errors
    HookFn fn;
    std::vector<size_t> slots;  // HookNames::index() of the points it is attached to
  };

  HookId attach(std::string label, std::vector<size_t> slots, HookFn fn);
  const HookNames& names() const { return model_->hook_names(); }

  std::shared_ptr<const Transformer> model_;
  std::vector<std::string> points_;
  std::vector<std::unique_ptr<Hook>> hooks_;  // owned here; `at_` points into them
  // By HookNames::index(): the hooks at that point, in the order they were added.
  std::vector<std::vector<const Hook*>> at_;
  AttentionOverride attention_override_;
  HookId next_id_ = 0;
  int64_t offset_ = 0;
};

// Hooks attached for one scope (a cached or recorded pass); removed when it ends, also by an
// exception.
class ScopedHooks {
 public:
  explicit ScopedHooks(HookedModel& model) : model_(model) {}
  ScopedHooks(const ScopedHooks&) = delete;
  ScopedHooks& operator=(const ScopedHooks&) = delete;
  ~ScopedHooks() {
    for (auto id : ids_) model_.remove_hook(id);
  }
  void add(const std::string& name_or_glob, HookFn fn) {
    ids_.push_back(model_.add_hook(name_or_glob, std::move(fn)));
  }
  void add(HookPoint point, HookFn fn) { ids_.push_back(model_.add_hook(point, std::move(fn))); }

 private:
  HookedModel& model_;
  std::vector<HookedModel::HookId> ids_;
};

}  // namespace headscope
