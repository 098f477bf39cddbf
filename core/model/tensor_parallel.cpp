#include "core/model/tensor_parallel.h"

#include <string>

#include "core/base/error.h"

namespace headscope {

ModelShard model_shard(const ModelConfig& c, int64_t rank, int64_t world) {
  if (world < 1 || rank < 0 || rank >= world) {
    throw InvalidInput("tensor parallelism: rank " + std::to_string(rank) + " is outside [0, " +
                       std::to_string(world) + ")");
  }
  const std::string over = "tensor parallelism over " + std::to_string(world) + " ranks: ";
  if (c.n_kv_heads % world != 0) {
    throw InvalidInput(over + "the " + c.model_type + " model's " + std::to_string(c.n_kv_heads) +
                       " KV heads (num_key_value_heads) do not split evenly; the number of "
                       "ranks must divide " +
                       std::to_string(c.n_kv_heads));
  }
  if (c.d_mlp < world) {
    throw InvalidInput(over + "the " + c.model_type + " model's MLP has only " +
                       std::to_string(c.d_mlp) + " columns (intermediate_size)");
  }
  ModelShard s;
  s.rank = rank;
  s.world = world;
  s.kv_heads = c.n_kv_heads / world;
  s.kv_head_begin = rank * s.kv_heads;
  s.heads = s.kv_heads * c.kv_group_size();
  s.head_begin = s.kv_head_begin * c.kv_group_size();
  s.mlp_begin = rank * c.d_mlp / world;
  s.mlp_width = (rank + 1) * c.d_mlp / world - s.mlp_begin;
  return s;
}

}  // namespace headscope
