// A command's samples spread over the processes of a torchrun or mpirun launch (issue 16):
// each rank runs its share of the scan on its own device, rank 0 gathers every rank's results
// and writes the one output, exactly as a single process would. A plain launch is a world of
// one: the scan runs whole and nothing is exchanged.
#pragma once

#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cli/option_groups.h"
#include "core/base/deferred_sigterm.h"
#include "core/model/hook_names.h"
#include "core/model/tensor_parallel.h"
#include "dist/process_group.h"
#include "dist/work_split.h"

namespace headscope::cli {

class DistributedScan {
 public:
  // Joins the launch's group (none for a single process).
  DistributedScan();

  bool root() const { return group_.is_root(); }
  bool distributed() const { return group_.world_size() > 1; }
  const DistGroup& group() const { return group_; }

  // The model options of this rank: `--device cuda` becomes the GPU of its LOCAL_RANK.
  ModelArgs rank_model(ModelArgs args) const;
  // The samples this rank runs, given every sample's cost (dist/sample_shard.h); all of them,
  // in order, for a single process.
  std::vector<int64_t> share(const std::vector<double>& costs) const;
  // The samples `rank` runs (rank 0 naming the runs of a rank that failed).
  std::vector<int64_t> share_of(const std::vector<double>& costs, int64_t rank) const;
  // Called after each sample this rank completes, with how many it has: the fault a test asks
  // for (dist/fault_injection.h) happens here.
  void sample_done(int64_t completed) const;

  // This rank's share of an analysis's batches and the group's all-gather, for analyses that
  // exchange results mid-computation (dist/work_split.h); inactive for a single process. From
  // then on SIGTERM is held back: a rank stops at its next exchange, with an error. Each
  // exchange counts as a completed sample for the fault a test asks for.
  WorkSplit work_split();

  // This rank's place in a tensor-parallel model: the group's all-reduce sums the partial
  // outputs (one process: the whole model).
  TensorParallel tensor_parallel();
  // The whole value of a hook point of a tensor-parallel model, from this rank's share: the
  // ranks' shares concatenated along the point's split axis (core/model/shard_axes.h), on
  // rank 0 only (undefined elsewhere: only rank 0 writes); `share` itself at points every rank
  // holds whole.
  torch::Tensor whole_hook_value(HookPoint point, const torch::Tensor& share);
  // The same for a per-head value whose first axis is this rank's heads (attention
  // statistics): every head's, in head order, on rank 0 (host memory; undefined elsewhere).
  torch::Tensor whole_heads(const torch::Tensor& share);

  // Runs `compute`, which returns this rank's results as bytes, and hands every rank's bytes to
  // rank 0 (indexed by rank; empty elsewhere). A failure on any rank stops every rank: the
  // failing one with its own error, the others with one that says a rank failed.
  std::vector<std::string> gather(const std::function<std::string()>& compute);

 private:
  DistGroup group_;
  std::unique_ptr<DeferredSigterm> sigterm_;  // from work_split() on
  int64_t exchanges_ = 0;                     // work_split()'s all-gathers so far
};

}  // namespace headscope::cli
