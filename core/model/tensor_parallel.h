// Tensor parallelism over attention heads and MLP columns (Megatron's column/row split): each
// of `world` ranks holds the q/k/v rows of a contiguous share of the KV groups (its query heads
// with the KV heads they read), the matching columns of the output projection, and a share of
// the MLP's up/gate rows and down columns. The partial outputs of the output projection and the
// MLP's down projection are summed over the ranks by a callback the caller supplies (dist/ wraps
// a c10d all-reduce), so core/model knows nothing of processes; biases of those two projections
// are added once, after the sum.
#pragma once

#include <cstdint>
#include <functional>

#include <torch/types.h>

#include "core/checkpoint/model_config.h"

namespace headscope {

// Sums `partial` in place over the ranks; every rank calls it with a tensor of the same shape
// and dtype, in the same order.
using AllReduceSum = std::function<void(torch::Tensor& partial)>;

struct TensorParallel {
  int64_t rank = 0;
  int64_t world = 1;
  AllReduceSum all_reduce_sum;  // required when world > 1

  bool active() const { return world > 1; }
};

// The part of the model one rank holds. Heads and KV heads are global indices
// [head_begin, head_begin + heads); MLP columns [mlp_begin, mlp_begin + mlp_width).
struct ModelShard {
  int64_t rank = 0;
  int64_t world = 1;
  int64_t head_begin = 0;
  int64_t heads = 0;
  int64_t kv_head_begin = 0;
  int64_t kv_heads = 0;
  int64_t mlp_begin = 0;
  int64_t mlp_width = 0;

  bool sharded() const { return world > 1; }
};

// The share of rank `rank` of `world`: KV heads split evenly (a query head stays with the KV
// head it reads), MLP columns as evenly as they go (widths differ by at most one).
// world 1 is the whole model. Throws InvalidInput naming the counts when the KV heads
// (num_key_value_heads) do not divide by the ranks or there are fewer MLP columns than ranks.
ModelShard model_shard(const ModelConfig& config, int64_t rank, int64_t world);

}  // namespace headscope
