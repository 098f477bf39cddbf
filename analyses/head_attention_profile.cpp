#include "analyses/head_attention_profile.h"

#include <algorithm>
#include <string>

#include <torch/torch.h>

#include "core/base/error.h"

namespace headscope {

void attach_head_profile(ScopedHooks& hooks, const ModelConfig& config,
                         const HeadProfileOptions& options, HeadProfile& profile) {
  if (options.query_end <= options.query_begin || options.query_begin < 0) {
    throw InvalidInput("head profile: query range [" + std::to_string(options.query_begin) + ", " +
                       std::to_string(options.query_end) + ") is empty");
  }
  if (options.span_end <= options.span_begin || options.span_begin < 0) {
    throw InvalidInput("head profile: key span [" + std::to_string(options.span_begin) + ", " +
                       std::to_string(options.span_end) + ") is empty");
  }
  const auto shape = torch::TensorOptions(torch::kFloat64);
  profile.span_mass = torch::zeros({config.n_layers, config.n_heads}, shape);
  profile.first_mass = torch::zeros_like(profile.span_mass);
  profile.previous_mass = torch::zeros_like(profile.span_mass);
  profile.entropy = torch::zeros_like(profile.span_mass);
  for (int64_t layer = 0; layer < config.n_layers; ++layer) {
    hooks.add("blocks." + std::to_string(layer) + ".attn.hook_pattern",
              [&profile, options, layer](const torch::Tensor& p, const HookContext&) {
                const auto pattern = p.select(0, 0).to(torch::kFloat64);  // [H, T, S]
                const int64_t t = pattern.size(1), s = pattern.size(2);
                if (options.query_end > t || options.span_end > s) {
                  throw InvalidInput("head profile: query range or key span beyond the " +
                                     std::to_string(t) + " positions of this pass");
                }
                const auto rows =
                    pattern.narrow(1, options.query_begin, options.query_end - options.query_begin);
                profile.span_mass[layer].copy_(
                    rows.narrow(2, options.span_begin, options.span_end - options.span_begin)
                        .sum(-1)
                        .mean(-1));
                profile.first_mass[layer].copy_(pattern.select(2, 0).mean(-1));
                if (t > 1) profile.previous_mass[layer].copy_(pattern.diagonal(-1, 1, 2).mean(-1));
                profile.entropy[layer].copy_(
                    -(pattern * pattern.clamp_min(1e-300).log()).sum(-1).mean(-1));
                return std::nullopt;
              });
  }
}

}  // namespace headscope
