// An analysis's batches split over the processes of a launch, as the analysis sees it: which
// batches this process runs and the exchange of every process's results (cli/distributed_scan.h
// makes one from the launch's group). A default-constructed split is one process running
// everything. The analyses keep the batches one process runs and add their results in batch
// order, so a split computation gives the same bits (docs/DISTRIBUTED.md).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace headscope {

struct WorkSplit {
  // The cost of every batch, in order -> the batches this process runs.
  std::function<std::vector<int64_t>(const std::vector<double>& costs)> share;
  // This process's bytes -> every process's, indexed by rank (each process calls it alike).
  std::function<std::vector<std::string>(const std::string& mine)> all_gather;

  bool active() const { return static_cast<bool>(share); }
  // Whether this process runs each batch of `costs`: every one without a split.
  std::vector<uint8_t> runs(const std::vector<double>& costs) const;
};

// Every item of [0, count) from the process that computed it: `mine` holds this process's (by
// index); each process gets every item's bytes, by index. Without a split, `mine` is all of
// them. IoError naming `what` for an item out of range, computed twice or by no process.
std::vector<std::string> exchange_items(const WorkSplit& split,
                                        const std::map<int64_t, std::string>& mine, int64_t count,
                                        const std::string& what);

}  // namespace headscope
