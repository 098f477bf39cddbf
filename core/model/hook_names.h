// TransformerLens hook point names, built once per model (the forward pass looks them up
// per layer; building strings there would cost more than some small layers).
#pragma once

#include <string>
#include <vector>

#include "core/checkpoint/model_config.h"

namespace headscope {

struct LayerHookNames {
  std::string resid_pre, ln1_normalized, q, k, v, rot_q, rot_k, attn_scores, pattern, z, result,
      attn_out, resid_mid, ln2_normalized, mlp_pre, mlp_post, mlp_out, resid_post;
};

struct HookNames {
  std::string embed = "hook_embed";
  std::string pos_embed = "hook_pos_embed";
  std::string ln_final = "ln_final.hook_normalized";
  std::vector<LayerHookNames> layers;

  explicit HookNames(const ModelConfig& config);
  // Every hook point this model fires, in forward order.
  std::vector<std::string> all() const;

 private:
  bool has_rotary_ = true;
  bool parallel_residual_ = false;
};

}  // namespace headscope
