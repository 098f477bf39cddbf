// Interventions on single attention heads. Each is a hook on one hook point of one layer;
// several compose because every hook sees the value the previous one returned.
//
//   zero      hook_z of the head set to 0
//   mean      hook_z of the head set to its mean over a reference set
//   uniform   the head's scores set to 0 on allowed keys -> uniform attention
//             (the masking of Wu et al.'s Retrieval_Head)
//   neg-inf   chosen key positions masked for the head (lowest finite score, so a row whose
//             keys are all masked degrades to uniform instead of NaN)
//   scale     hook_z of the head multiplied by a factor (a tensor: it may require grad)
//   patch     hook_z of the head copied from another run's cache
#pragma once

#include <string>
#include <vector>

#include <torch/types.h>

#include "hooks/hooked_model.h"

namespace headscope {

enum class HeadInterventionKind : uint8_t { kZero, kMean, kUniform, kNegInfKeys, kScale, kPatch };

const char* intervention_name(HeadInterventionKind kind);

struct HeadRef {
  int64_t layer = 0;
  int64_t head = 0;
};

struct Intervention {
  HeadInterventionKind kind;
  HeadRef target;
  std::string hook;  // the hook point it attaches to
  HookFn fn;
};

Intervention zero_head(const ModelConfig& config, HeadRef target);
// `mean`: [d_head], e.g. from head_mean_output().
Intervention mean_head(const ModelConfig& config, HeadRef target, torch::Tensor mean);
Intervention uniform_attention(const ModelConfig& config, HeadRef target);
Intervention mask_keys(const ModelConfig& config, HeadRef target, std::vector<int64_t> keys);
// `factor`: a scalar tensor.
Intervention scale_head(const ModelConfig& config, HeadRef target, torch::Tensor factor);
// `source_z`: the source run's hook_z of the same layer, [B, T, H, D]; positions must cover
// the patched run's.
Intervention patch_head(const ModelConfig& config, HeadRef target, torch::Tensor source_z);

// Mean of one head's hook_z over batch and positions of a reference cache entry [B, T, H, D].
torch::Tensor head_mean_output(const torch::Tensor& z, int64_t head);

// Attaches the interventions; returns their hook ids.
std::vector<HookedModel::HookId> apply_interventions(HookedModel& model,
                                                     const std::vector<Intervention>& list);

}  // namespace headscope
