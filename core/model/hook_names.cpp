#include "core/model/hook_names.h"

#include <array>

namespace headscope {
namespace {

// Indexed by HookKind.
constexpr std::array<const char*, kHookKinds> kSuffixes = {
    "hook_resid_pre",      "ln1.hook_normalized", "attn.hook_q",         "attn.hook_k",
    "attn.hook_v",         "attn.hook_rot_q",     "attn.hook_rot_k",     "attn.hook_attn_scores",
    "attn.hook_pattern",   "attn.hook_z",         "attn.hook_result",    "hook_attn_out",
    "hook_resid_mid",      "ln2.hook_normalized", "mlp.hook_pre",        "mlp.hook_post",
    "hook_mlp_out",        "hook_resid_post",     "hook_embed",          "hook_pos_embed",
    "ln_final.hook_normalized",
};

// Whether a model of `config` fires `kind`.
bool model_fires(const ModelConfig& config, HookKind kind) {
  switch (kind) {
    case HookKind::kRotQ:
    case HookKind::kRotK:
      return !config.learned_positions;
    case HookKind::kPosEmbed:
      return config.learned_positions;
    case HookKind::kResidMid:
      return !config.parallel_residual;
    default:
      return true;
  }
}

}  // namespace

HookNames::HookNames(const ModelConfig& config)
    : layers_(config.n_layers),
      rotary_(!config.learned_positions),
      names_(static_cast<size_t>(config.n_layers * kLayerHookKinds + kHookKinds -
                                 kLayerHookKinds)) {
  const auto add = [&](HookPoint point, std::string name) {
    if (!model_fires(config, point.kind)) return;
    names_[index(point)] = std::move(name);
    points_.push_back(point);
  };
  add({HookPoint::kNoLayer, HookKind::kEmbed}, kSuffixes[static_cast<size_t>(HookKind::kEmbed)]);
  add({HookPoint::kNoLayer, HookKind::kPosEmbed},
      kSuffixes[static_cast<size_t>(HookKind::kPosEmbed)]);
  for (int64_t layer = 0; layer < layers_; ++layer) {
    const std::string prefix = "blocks." + std::to_string(layer) + ".";
    for (int64_t kind = 0; kind < kLayerHookKinds; ++kind) {
      add({layer, static_cast<HookKind>(kind)}, prefix + kSuffixes[static_cast<size_t>(kind)]);
    }
  }
  add({HookPoint::kNoLayer, HookKind::kLnFinal}, kSuffixes[static_cast<size_t>(HookKind::kLnFinal)]);
}

std::vector<std::string> HookNames::all() const {
  std::vector<std::string> out;
  out.reserve(points_.size());
  for (const HookPoint& p : points_) out.push_back(name(p));
  return out;
}

}  // namespace headscope
