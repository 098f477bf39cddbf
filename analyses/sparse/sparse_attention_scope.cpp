#include "analyses/sparse/sparse_attention_scope.h"

#include <torch/torch.h>

#include "core/base/error.h"
#include "kernels/sparse_attention.h"

namespace headscope {

ScopedSparseAttention::ScopedSparseAttention(HookedModel& model, SparseModelConfig config)
    : model_(model), config_(std::move(config)) {
  check_config_matches_model(config_, model_.model().config(), "sparse config");
  if (model_.has_attention_override()) {
    throw InvalidInput("the model already runs with an attention override");
  }
  for (const auto& layer : config_.heads) {
    all_full_.push_back(std::all_of(layer.begin(), layer.end(), [](const SparseHeadConfig& h) {
      return h.kind == SparseKind::kFull;
    }));
  }
  model_.set_attention_override([this](int64_t layer, const torch::Tensor& q,
                                       const torch::Tensor& k, const torch::Tensor& v,
                                       double scale) -> std::optional<torch::Tensor> {
    ++attended_;
    const auto& heads = config_.heads[static_cast<size_t>(layer)];
    if (measure_) {
      kept_sum_ += all_full_[static_cast<size_t>(layer)]
                       ? 1.0
                       : sparse_kept_fraction(q, k, heads).mean().item<double>();
      ++measured_;
    }
    // All-full layers keep the model's own (fused) attention.
    if (all_full_[static_cast<size_t>(layer)]) return std::nullopt;
    return sparse_attention(q, k, v, heads, scale);
  });
}

ScopedSparseAttention::~ScopedSparseAttention() {
  model_.set_attention_override({});
}

}  // namespace headscope
