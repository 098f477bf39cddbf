#include "cli/distributed_scan.h"

#include <numeric>

#include "core/base/deferred_sigterm.h"
#include "core/base/error.h"
#include "core/model/shard_axes.h"
#include "dist/fault_injection.h"
#include "dist/launch_env.h"
#include "dist/sample_shard.h"

namespace headscope::cli {

DistributedScan::DistributedScan() : group_(DistGroup::join(launch_env())) {}

ModelArgs DistributedScan::rank_model(ModelArgs args) const {
  if (distributed() && args.device == "cuda") {
    args.device = "cuda:" + std::to_string(group_.env().local_rank);
  }
  return args;
}

std::vector<int64_t> DistributedScan::share(const std::vector<double>& costs) const {
  return share_of(costs, group_.rank());
}

std::vector<int64_t> DistributedScan::share_of(const std::vector<double>& costs,
                                               int64_t rank) const {
  if (!distributed()) {
    std::vector<int64_t> all(costs.size());
    std::iota(all.begin(), all.end(), 0);
    return all;
  }
  return shard_by_cost(costs, rank, group_.world_size());
}

void DistributedScan::sample_done(int64_t completed) const {
  kill_if_asked(group_.env(), completed);
}

WorkSplit DistributedScan::work_split() {
  if (!distributed()) return {};
  // torchrun stops the other ranks with SIGTERM once one died; held back, this rank reaches
  // its next exchange and stops there with an error that says why (the failed collective, or
  // the SIGTERM) instead of vanishing without one.
  sigterm_ = std::make_unique<DeferredSigterm>();
  WorkSplit split;
  split.share = [this](const std::vector<double>& costs) { return share(costs); };
  split.all_gather = [this](const std::string& mine) {
    // Each exchange ends a round of this rank's work: the fault a test asks for counts them.
    sample_done(++exchanges_);
    if (DeferredSigterm::received()) {
      throw IoError("distributed scan: rank " + std::to_string(group_.rank()) + " of " +
                    std::to_string(group_.world_size()) + " stopped by SIGTERM before exchange " +
                    std::to_string(exchanges_) +
                    " (the launcher stops every rank once one has died; its error is above)");
    }
    return group_.all_gather_bytes(mine);
  };
  return split;
}

TensorParallel DistributedScan::tensor_parallel() {
  if (!distributed()) return {};
  return {group_.rank(), group_.world_size(),
          [this](torch::Tensor& t) { group_.all_reduce_sum(t); }};
}

torch::Tensor DistributedScan::whole_hook_value(HookPoint point, const torch::Tensor& share) {
  const auto axis = shard_axis(point.kind);
  return distributed() && axis ? group_.gather_cat(share, *axis) : share;
}

torch::Tensor DistributedScan::whole_heads(const torch::Tensor& share) {
  return distributed() ? group_.gather_cat(share, 0) : share;
}

std::vector<std::string> DistributedScan::gather(const std::function<std::string()>& compute) {
  if (!distributed()) return {compute()};
  std::string mine;
  std::exception_ptr failure;
  try {
    mine = compute();
  } catch (...) {
    failure = std::current_exception();
  }
  if (!group_.all_ok(failure == nullptr)) {
    if (failure) std::rethrow_exception(failure);
    throw IoError("distributed scan: another rank failed (its error is in its output); rank " +
                  std::to_string(group_.rank()) + " stops without writing");
  }
  return group_.gather_bytes(mine);
}

}  // namespace headscope::cli
