// Hook points as the forward pass fires them: (layer, kind) ids, resolved to TransformerLens
// names ("blocks.3.attn.hook_pattern") only at the API edge. The names are built once per model.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/checkpoint/model_config.h"

namespace headscope {

enum class HookKind : uint8_t {
  // Inside layer L ("blocks.L." + the name's suffix), in forward order.
  kResidPre,
  kLn1Normalized,
  kQ,
  kK,
  kV,
  kRotQ,
  kRotK,
  kAttnScores,
  kPattern,
  kZ,
  kResult,
  kAttnOut,
  kResidMid,
  kLn2Normalized,
  kMlpPre,
  kMlpPost,
  kMlpOut,
  kResidPost,
  // Outside the layers (HookPoint::layer is kNoLayer).
  kEmbed,
  kPosEmbed,
  kLnFinal,
};

constexpr int64_t kLayerHookKinds = static_cast<int64_t>(HookKind::kResidPost) + 1;
constexpr int64_t kHookKinds = static_cast<int64_t>(HookKind::kLnFinal) + 1;

struct HookPoint {
  static constexpr int64_t kNoLayer = -1;
  int64_t layer;
  HookKind kind;
};

class HookNames {
 public:
  explicit HookNames(const ModelConfig& config);

  // Every point of the model's shape, including those it never fires (rot_q without rotary):
  // index() is in [0, size()).
  size_t size() const { return names_.size(); }
  size_t index(HookPoint point) const {
    const auto kind = static_cast<int64_t>(point.kind);
    return static_cast<size_t>(kind < kLayerHookKinds ? point.layer * kLayerHookKinds + kind
                                                      : layers_ * kLayerHookKinds + kind -
                                                            kLayerHookKinds);
  }
  // The name of a point this model fires; empty for one it does not.
  const std::string& name(HookPoint point) const { return names_[index(point)]; }
  bool fires(HookPoint point) const { return !name(point).empty(); }

  // The q and k the attention scores are computed from: after rotary where the model has it.
  HookKind scored_q() const { return rotary_ ? HookKind::kRotQ : HookKind::kQ; }
  HookKind scored_k() const { return rotary_ ? HookKind::kRotK : HookKind::kK; }

  // Every point this model fires, in forward order, and their names.
  const std::vector<HookPoint>& points() const { return points_; }
  std::vector<std::string> all() const;

 private:
  int64_t layers_;
  bool rotary_;
  std::vector<std::string> names_;  // by index()
  std::vector<HookPoint> points_;
};

}  // namespace headscope
