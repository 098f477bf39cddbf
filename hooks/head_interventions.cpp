#include "hooks/head_interventions.h"

#include <limits>

#include "core/base/error.h"

namespace headscope {
namespace {

void check_target(const ModelConfig& config, HeadRef t) {
  if (t.layer < 0 || t.layer >= config.n_layers || t.head < 0 || t.head >= config.n_heads) {
    throw InvalidInput("head " + std::to_string(t.layer) + "." + std::to_string(t.head) +
                       " does not exist: the model has " + std::to_string(config.n_layers) +
                       " layers of " + std::to_string(config.n_heads) + " heads");
  }
}

std::string hook_name(HeadRef t, const char* point) {
  return "blocks." + std::to_string(t.layer) + ".attn." + point;
}

// Bool mask selecting one head along `dim` of a tensor shaped like `value`.
torch::Tensor head_mask(const torch::Tensor& value, int64_t dim, int64_t head) {
  std::vector<int64_t> shape(static_cast<size_t>(value.dim()), 1);
  shape[static_cast<size_t>(dim)] = value.size(dim);
  auto mask = torch::zeros({value.size(dim)}, torch::TensorOptions(torch::kBool).device(value.device()));
  mask[head] = true;
  return mask.view(shape);
}

// Replaces head `head` of hook_z ([B, T, H, D]) by `make(z)`, out of place so gradients flow.
Intervention on_z(const ModelConfig& config, HeadInterventionKind kind, HeadRef t,
                  std::function<torch::Tensor(const torch::Tensor&, const HookContext&)> make) {
  check_target(config, t);
  const int64_t head = t.head;
  HookFn fn = [head, make](const torch::Tensor& z, const HookContext& ctx) {
    return std::optional<torch::Tensor>(torch::where(head_mask(z, 2, head), make(z, ctx), z));
  };
  return Intervention{kind, t, hook_name(t, "hook_z"), std::move(fn)};
}

double lowest_score(torch::ScalarType dtype) {
  switch (dtype) {
    case torch::kFloat16: return -65504.0;
    case torch::kBFloat16: return -3.38e38;
    case torch::kFloat64: return std::numeric_limits<double>::lowest();
    default: return static_cast<double>(std::numeric_limits<float>::lowest());
  }
}

}  // namespace

const char* intervention_name(HeadInterventionKind kind) {
  switch (kind) {
    case HeadInterventionKind::kZero: return "zero";
    case HeadInterventionKind::kMean: return "mean";
    case HeadInterventionKind::kUniform: return "uniform";
    case HeadInterventionKind::kNegInfKeys: return "neg-inf";
    case HeadInterventionKind::kScale: return "scale";
    case HeadInterventionKind::kPatch: return "patch";
  }
  HS_ASSERT(false && "unhandled intervention kind");
}

Intervention zero_head(const ModelConfig& config, HeadRef t) {
  return on_z(config, HeadInterventionKind::kZero, t,
              [](const torch::Tensor& z, const HookContext&) { return torch::zeros_like(z); });
}

Intervention mean_head(const ModelConfig& config, HeadRef t, torch::Tensor mean) {
  if (mean.dim() != 1 || mean.size(0) != config.d_head) {
    throw InvalidInput("mean ablation of head " + std::to_string(t.layer) + "." +
                       std::to_string(t.head) + ": the mean must have shape [" +
                       std::to_string(config.d_head) + "]");
  }
  return on_z(config, HeadInterventionKind::kMean, t,
              [mean](const torch::Tensor& z, const HookContext&) {
                return mean.to(z.device(), z.scalar_type()).view({1, 1, 1, -1}).expand_as(z);
              });
}

Intervention scale_head(const ModelConfig& config, HeadRef t, torch::Tensor factor) {
  if (factor.numel() != 1) throw InvalidInput("scale factor must be a single number");
  return on_z(config, HeadInterventionKind::kScale, t,
              [factor](const torch::Tensor& z, const HookContext&) {
                return z * factor.to(z.device()).reshape({});
              });
}

Intervention patch_head(const ModelConfig& config, HeadRef t, torch::Tensor source_z) {
  if (source_z.dim() != 4 || source_z.size(2) != config.n_heads ||
      source_z.size(3) != config.d_head) {
    throw InvalidInput("patch source for head " + std::to_string(t.layer) + "." +
                       std::to_string(t.head) + " must be a hook_z tensor [B, T, " +
                       std::to_string(config.n_heads) + ", " + std::to_string(config.d_head) +
                       "]");
  }
  return on_z(config, HeadInterventionKind::kPatch, t,
              [source_z](const torch::Tensor& z, const HookContext& ctx) {
                if (source_z.size(0) != z.size(0) ||
                    source_z.size(1) < ctx.position_offset + z.size(1)) {
                  throw InvalidInput(
                      "patch source covers batch " + std::to_string(source_z.size(0)) + " x " +
                      std::to_string(source_z.size(1)) + " positions, the run needs batch " +
                      std::to_string(z.size(0)) + " x " +
                      std::to_string(ctx.position_offset + z.size(1)));
                }
                return source_z.narrow(1, ctx.position_offset, z.size(1))
                    .to(z.device(), z.scalar_type());
              });
}

Intervention uniform_attention(const ModelConfig& config, HeadRef t) {
  check_target(config, t);
  const int64_t head = t.head;
  HookFn fn = [head](const torch::Tensor& scores, const HookContext&) {
    // Masked keys hold -inf and stay masked; every allowed key gets the same score.
    auto uniform = torch::where(torch::isinf(scores), scores, torch::zeros_like(scores));
    return std::optional<torch::Tensor>(torch::where(head_mask(scores, 1, head), uniform, scores));
  };
  return Intervention{HeadInterventionKind::kUniform, t, hook_name(t, "hook_attn_scores"),
                      std::move(fn)};
}

Intervention mask_keys(const ModelConfig& config, HeadRef t, std::vector<int64_t> keys) {
  check_target(config, t);
  for (auto k : keys) {
    if (k < 0) throw InvalidInput("masked key position " + std::to_string(k) + " is negative");
  }
  const int64_t head = t.head;
  HookFn fn = [head, keys](const torch::Tensor& scores, const HookContext&) {
    const int64_t n_keys = scores.size(3);
    auto key_mask = torch::zeros({n_keys}, torch::TensorOptions(torch::kBool));
    for (auto k : keys) {
      if (k < n_keys) key_mask[k] = true;
    }
    auto mask = head_mask(scores, 1, head).logical_and(
        key_mask.to(scores.device()).view({1, 1, 1, n_keys}));
    // Causally masked entries stay -inf so they keep zero probability.
    mask = mask.logical_and(torch::isinf(scores).logical_not());
    return std::optional<torch::Tensor>(
        scores.masked_fill(mask, lowest_score(scores.scalar_type())));
  };
  return Intervention{HeadInterventionKind::kNegInfKeys, t, hook_name(t, "hook_attn_scores"),
                      std::move(fn)};
}

torch::Tensor head_mean_output(const torch::Tensor& z, int64_t head) {
  if (z.dim() != 4 || head < 0 || head >= z.size(2)) {
    throw InvalidInput("head_mean_output needs hook_z [B, T, H, D] and a head in [0, H)");
  }
  return z.select(2, head).to(torch::kFloat32).mean(std::vector<int64_t>{0, 1});
}

std::vector<HookedModel::HookId> apply_interventions(HookedModel& model,
                                                     const std::vector<Intervention>& list) {
  std::vector<HookedModel::HookId> ids;
  ids.reserve(list.size());
  for (const auto& i : list) ids.push_back(model.add_hook(i.hook, i.fn));
  return ids;
}

}  // namespace headscope
