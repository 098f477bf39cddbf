#include "analyses/circuits/pair_batches.h"

#include <map>

#include <torch/torch.h>

namespace headscope {

std::vector<LengthGroup> group_by_length(const std::vector<PatchingPair>& pairs) {
  std::map<int64_t, LengthGroup> groups;
  for (size_t i = 0; i < pairs.size(); ++i) {
    const auto length = static_cast<int64_t>(pairs[i].clean.size());
    groups[length].length = length;
    groups[length].pairs.push_back(static_cast<int64_t>(i));
  }
  std::vector<LengthGroup> out;
  for (auto& entry : groups) out.push_back(std::move(entry.second));
  return out;
}

torch::Tensor stack_tokens(const std::vector<PatchingPair>& pairs, const std::vector<int64_t>& rows,
                           bool clean) {
  const auto length = static_cast<int64_t>(pairs[static_cast<size_t>(rows.front())].clean.size());
  auto tokens = torch::empty({static_cast<int64_t>(rows.size()), length}, torch::kInt64);
  auto acc = tokens.accessor<int64_t, 2>();
  for (size_t r = 0; r < rows.size(); ++r) {
    const PatchingPair& p = pairs[static_cast<size_t>(rows[r])];
    const std::vector<int32_t>& seq = clean ? p.clean : p.corrupted;
    for (int64_t t = 0; t < length; ++t)
      acc[static_cast<int64_t>(r)][t] = seq[static_cast<size_t>(t)];
  }
  return tokens;
}

}  // namespace headscope
