#include "core/model/hook_names.h"

namespace headscope {

HookNames::HookNames(const ModelConfig& config) {
  layers.reserve(static_cast<size_t>(config.n_layers));
  for (int64_t layer = 0; layer < config.n_layers; ++layer) {
    const std::string b = "blocks." + std::to_string(layer) + ".";
    LayerHookNames n;
    n.resid_pre = b + "hook_resid_pre";
    n.ln1_normalized = b + "ln1.hook_normalized";
    n.q = b + "attn.hook_q";
    n.k = b + "attn.hook_k";
    n.v = b + "attn.hook_v";
    n.rot_q = b + "attn.hook_rot_q";
    n.rot_k = b + "attn.hook_rot_k";
    n.attn_scores = b + "attn.hook_attn_scores";
    n.pattern = b + "attn.hook_pattern";
    n.z = b + "attn.hook_z";
    n.result = b + "attn.hook_result";
    n.attn_out = b + "hook_attn_out";
    n.resid_mid = b + "hook_resid_mid";
    n.ln2_normalized = b + "ln2.hook_normalized";
    n.mlp_pre = b + "mlp.hook_pre";
    n.mlp_post = b + "mlp.hook_post";
    n.mlp_out = b + "hook_mlp_out";
    n.resid_post = b + "hook_resid_post";
    layers.push_back(std::move(n));
  }
  if (!config.learned_positions) pos_embed.clear();
  has_rotary_ = !config.learned_positions;
  parallel_residual_ = config.parallel_residual;
}

std::vector<std::string> HookNames::all() const {
  std::vector<std::string> names{embed};
  if (!pos_embed.empty()) names.push_back(pos_embed);
  for (const auto& n : layers) {
    names.insert(names.end(), {n.resid_pre, n.ln1_normalized, n.q, n.k, n.v});
    if (has_rotary_) names.insert(names.end(), {n.rot_q, n.rot_k});
    names.insert(names.end(), {n.attn_scores, n.pattern, n.z, n.result, n.attn_out});
    if (!parallel_residual_) names.push_back(n.resid_mid);
    names.insert(names.end(),
                 {n.ln2_normalized, n.mlp_pre, n.mlp_post, n.mlp_out, n.resid_post});
  }
  names.push_back(ln_final);
  return names;
}

}  // namespace headscope
