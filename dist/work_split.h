// An analysis's batches split over the processes of a launch, as the analysis sees it: which
// batches this process runs and the exchange of every process's results (cli/distributed_scan.h
// makes one from the launch's group). A default-constructed split is one process running
// everything. The analyses keep the batches one process runs and add their results in batch
// order, so a split computation gives the same bits (docs/DISTRIBUTED.md).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace headscope {

struct WorkSplit {
  // The cost of every batch, in order -> the batches this process runs.
  std::function<std::vector<int64_t>(const std::vector<double>& costs)> share;
  // This process's bytes -> every process's, indexed by rank (each process calls it alike).
  std::function<std::vector<std::string>(const std::string& mine)> all_gather;

  bool active() const { return static_cast<bool>(share); }
};

}  // namespace headscope
