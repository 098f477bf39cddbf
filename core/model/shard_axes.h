// Which axis of a hook point's tensor a tensor-parallel rank holds only its share of
// (core/model/tensor_parallel.h): the head axis of the per-head points, the column axis of the
// MLP's hidden points. A whole value is the ranks' shares concatenated along it, in rank order.
#pragma once

#include <cstdint>
#include <optional>

#include "core/model/hook_names.h"

namespace headscope {

// The split axis of the tensor fired at `kind` ([B, T, H, D] q/k/v/z, [B, H, T, T]
// scores/pattern, [B, T, H, d_model] result, [B, T, d_mlp] mlp pre/post); nullopt for a point
// every rank holds whole (residuals, norms, attn_out, mlp_out, embeddings).
std::optional<int64_t> shard_axis(HookKind kind);

}  // namespace headscope
