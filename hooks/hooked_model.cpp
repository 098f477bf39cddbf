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
    : model_(std::move(model)),
      points_(model_->hook_names().all()),
      at_(model_->hook_names().size()) {}

std::vector<std::string> HookedModel::match(const std::string& name_or_glob) const {
  std::vector<std::string> out;
  for (const auto& p : points_) {
    if (matches(name_or_glob, p)) out.push_back(p);
  }
  return out;
}

HookedModel::HookId HookedModel::add_hook(const std::string& name_or_glob, HookFn fn) {
  std::vector<size_t> slots;
  for (const HookPoint& point : names().points()) {
    if (matches(name_or_glob, names().name(point))) slots.push_back(names().index(point));
  }
  if (slots.empty()) {
    std::string examples;
    for (size_t i = 0; i < points_.size() && i < 6; ++i) examples += "\n  " + points_[i];
    throw InvalidInput("hook '" + name_or_glob + "' matches no hook point of this model; e.g." +
                       examples + "\n  ... (`headscope inspect MODEL --hooks` lists all)");
  }
  return attach(name_or_glob, std::move(slots), std::move(fn));
}

HookedModel::HookId HookedModel::add_hook(HookPoint point, HookFn fn) {
  // Ids come from code (names from users are checked above), so a wrong one is a bug.
  const bool in_range = point.kind >= HookKind::kEmbed
                            ? point.layer == HookPoint::kNoLayer
                            : point.layer >= 0 && point.layer < model_->config().n_layers;
  HS_ASSERT(in_range && names().fires(point));
  return attach(names().name(point), {names().index(point)}, std::move(fn));
}

HookedModel::HookId HookedModel::attach(std::string label, std::vector<size_t> slots, HookFn fn) {
  hooks_.push_back(
      std::make_unique<Hook>(Hook{next_id_, std::move(label), std::move(fn), std::move(slots)}));
  for (size_t slot : hooks_.back()->slots) at_[slot].push_back(hooks_.back().get());
  return next_id_++;
}

void HookedModel::remove_hook(HookId id) {
  const auto it = std::find_if(hooks_.begin(), hooks_.end(),
                               [id](const std::unique_ptr<Hook>& h) { return h->id == id; });
  if (it == hooks_.end()) return;
  for (size_t slot : (*it)->slots) {
    auto& here = at_[slot];
    here.erase(std::remove(here.begin(), here.end(), it->get()), here.end());
  }
  hooks_.erase(it);
}

void HookedModel::clear_hooks() {
  hooks_.clear();
  for (auto& here : at_) here.clear();
}

bool HookedModel::active(HookPoint point) const {
  return !at_[names().index(point)].empty();
}

torch::Tensor HookedModel::fire(HookPoint point, torch::Tensor value) {
  const HookContext context{names().name(point), point, offset_};
  for (const Hook* h : at_[names().index(point)]) {
    if (auto replacement = h->fn(value, context)) {
      if (!replacement->sizes().equals(value.sizes())) {
        throw InvalidInput("hook '" + h->label + "' at " + context.name +
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

torch::Tensor HookedModel::forward_from(int64_t first_layer, const torch::Tensor& resid_pre,
                                        LogitPositions positions) {
  offset_ = 0;
  return model_->forward_from(first_layer, resid_pre, this, positions);
}

torch::Tensor HookedModel::run_with_cache(const torch::Tensor& tokens,
                                          const std::vector<std::string>& filters,
                                          ActivationCache& cache, bool keep_graph,
                                          LogitPositions positions) {
  ScopedHooks scoped(*this);
  for (const auto& filter : filters) {
    scoped.add(filter, [&cache, keep_graph](const torch::Tensor& v, const HookContext& ctx) {
      cache.put(ctx.name, keep_graph ? v : v.detach());
      return std::nullopt;
    });
  }
  return forward(tokens, nullptr, positions);
}

}  // namespace headscope
