// Patching pairs batched for forward passes: pairs of one length share a batch.
#pragma once

#include <cstdint>
#include <vector>

#include <torch/types.h>

#include "analyses/circuits/task_pairs.h"

namespace headscope {

// Pairs of one length, run together.
struct LengthGroup {
  int64_t length = 0;
  std::vector<int64_t> pairs;  // indices into the pair list
};

// By increasing length.
std::vector<LengthGroup> group_by_length(const std::vector<PatchingPair>& pairs);

// The clean (or corrupted) tokens of pairs `rows`, all of one length: [rows, length] int64.
torch::Tensor stack_tokens(const std::vector<PatchingPair>& pairs, const std::vector<int64_t>& rows,
                           bool clean);

}  // namespace headscope
