// Which samples of a scan each rank runs: deterministic (every rank computes the same split
// from the same costs, with no communication) and balanced by cost, most expensive first
// (longest-processing-time-first: each sample, in decreasing cost, goes to the rank with the
// least work so far; ties to the lower sample index and the lower rank).
#pragma once

#include <cstdint>
#include <vector>

namespace headscope {

// The indices into `costs` that `rank` of `world_size` runs, in the order it should run them
// (most expensive first, so a long prompt never starts last). costs >= 0.
std::vector<int64_t> shard_by_cost(const std::vector<double>& costs, int64_t rank,
                                   int64_t world_size);

}  // namespace headscope
