#include "dist/sample_shard.h"

#include <algorithm>
#include <numeric>
#include <utility>

#include "core/base/error.h"

namespace headscope {

std::vector<int64_t> shard_by_cost(const std::vector<double>& costs, int64_t rank,
                                   int64_t world_size) {
  HS_ASSERT(world_size >= 1 && rank >= 0 && rank < world_size);
  std::vector<int64_t> order(costs.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return costs[a] > costs[b]; });
  // (work so far, samples so far): the count splits samples of zero cost evenly too.
  std::vector<std::pair<double, int64_t>> load(static_cast<size_t>(world_size), {0.0, 0});
  std::vector<int64_t> mine;
  for (const int64_t sample : order) {
    HS_ASSERT(costs[sample] >= 0.0);
    const auto least = std::min_element(load.begin(), load.end()) - load.begin();
    load[least].first += costs[sample];
    ++load[least].second;
    if (least == rank) mine.push_back(sample);
  }
  return mine;
}

}  // namespace headscope
