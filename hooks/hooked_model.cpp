#include "hooks/hooked_model.h"

#include <fnmatch.h>

#include <algorithm>

#include "core/base/error.h"

namespace headscope {
namespace {

bool matches(const std::string& pattern, const std::string& name) {
  return fnmatch(pattern.c_str(), name.c_str(), 0) == 0;
}

}  // namespace

const torch::Tensor& ActivationCache::at(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) throw InvalidInput("activation cache has no hook '" + name + "'");
  return it->second;
}

HookedModel::HookedModel(std::shared_ptr<const Transformer> model)
    : model_(std::move(model)), points_(model_->hook_names().all()) {}

std::vector<std::string> HookedModel::match(const std::string& name_or_glob) const {
  std::vector<std::string> out;
  for (const auto& p : points_) {
    if (matches(name_or_glob, p)) out.push_back(p);
  }
  return out;
}

HookedModel::HookId HookedModel::add_hook(const std::string& name_or_glob, HookFn fn) {
  if (match(name_or_glob).empty()) {
    std::string examples;
    for (size_t i = 0; i < points_.size() && i < 6; ++i) examples += "\n  " + points_[i];
    throw InvalidInput("hook '" + name_or_glob + "' matches no hook point of this model; e.g." +
                       examples + "\n  ... (`headscope inspect MODEL --hooks` lists all)");
  }
  hooks_.push_back(Hook{next_id_, name_or_glob, std::move(fn)});
  resolved_.clear();
  return next_id_++;
}

void HookedModel::remove_hook(HookId id) {
  hooks_.erase(
      std::remove_if(hooks_.begin(), hooks_.end(), [id](const Hook& h) { return h.id == id; }),
      hooks_.end());
  resolved_.clear();
}

void HookedModel::clear_hooks() {
  hooks_.clear();
  resolved_.clear();
}

const std::vector<const HookedModel::Hook*>& HookedModel::hooks_at(const std::string& name) const {
  auto it = resolved_.find(name);
  if (it != resolved_.end()) return it->second;
  std::vector<const Hook*> found;
  for (const auto& h : hooks_) {
    if (matches(h.pattern, name)) found.push_back(&h);
  }
  return resolved_.emplace(name, std::move(found)).first->second;
}

bool HookedModel::active(const std::string& name) const {
  return !hooks_at(name).empty();
}

torch::Tensor HookedModel::fire(const std::string& name, torch::Tensor value) {
  const HookContext context{name, offset_};
  for (const Hook* h : hooks_at(name)) {
    if (auto replacement = h->fn(value, context)) {
      if (!replacement->sizes().equals(value.sizes())) {
        throw InvalidInput("hook '" + h->pattern + "' at " + name +
                           " returned a tensor of another shape");
      }
      value = std::move(*replacement);
    }
  }
  return value;
}

std::optional<torch::Tensor> HookedModel::attend(int64_t layer, const torch::Tensor& q,
                                                 const torch::Tensor& k, const torch::Tensor& v,
                                                 double scale) {
  if (!attention_override_) return std::nullopt;
  return attention_override_(layer, q, k, v, scale);
}

torch::Tensor HookedModel::forward(const torch::Tensor& tokens, KVCache* cache,
                                   LogitPositions positions) {
  offset_ = cache != nullptr ? cache->length() : 0;
  return model_->forward(tokens, this, cache, positions);
}

torch::Tensor HookedModel::run_with_cache(const torch::Tensor& tokens,
                                          const std::vector<std::string>& filters,
                                          ActivationCache& cache, bool keep_graph) {
  ScopedHooks scoped(*this);
  for (const auto& filter : filters) {
    scoped.add(filter, [&cache, keep_graph](const torch::Tensor& v, const HookContext& ctx) {
      cache.put(ctx.name, keep_graph ? v : v.detach());
      return std::nullopt;
    });
  }
  return forward(tokens);
}

}  // namespace headscope
