// Sparsity SNR per head (docs/SNR.md): runs a model over task samples, takes each layer's scored
// q and k (after rotary where the model has it), and for every query head and block size measures
// how well a MoBA-style router (top-k key blocks by q · mean(K_block)) would find the keys the
// task's queries need, beside the Gaussian model's prediction.
//
//   HookedModel hooked(model);
//   SnrResult r = sparsity_snr(hooked, samples, queries, SnrOptions().with_block_sizes({32, 64}));
#pragma once

#include <cstdint>
#include <vector>

#include "analyses/snr/routing_summary.h"
#include "analyses/snr/snr_queries.h"
#include "analyses/tasks/task_sample.h"
#include "dist/work_split.h"
#include "hooks/hooked_model.h"

namespace headscope {

struct SnrOptions {
  std::vector<int64_t> block_sizes = {16, 32, 64, 128, 256};  // B, increasing
  std::vector<int64_t> topk = {1, 2, 4, 8};                   // routed blocks k, increasing
  int64_t key_conv = 1;                                       // W (1: no smoothing)
  bool quiet = false;                                         // no progress bar

  SnrOptions& with_block_sizes(std::vector<int64_t> v) { return block_sizes = std::move(v), *this; }
  SnrOptions& with_topk(std::vector<int64_t> v) { return topk = std::move(v), *this; }
  SnrOptions& with_key_conv(int64_t v) { return key_conv = v, *this; }
  SnrOptions& with_quiet(bool v) { return quiet = v, *this; }
};

struct SnrResult {
  int64_t layers = 0, heads = 0, kv_heads = 0;
  SnrOptions options;
  std::vector<SnrQuery> queries;
  std::vector<double> delta_mu, sigma;    // [layers, heads]
  std::vector<RoutingSummary> summaries;  // [layers, heads, block sizes]
  std::vector<double> snr_theory;         // [layers, heads, block sizes]
  std::vector<int64_t> ranks;             // [layers, heads, block sizes, queries]; 0: not routed
  std::vector<double> query_delta_mu;     // [layers, heads, queries]; NaN: no key-level gap
  double seconds = 0.0;

  const RoutingSummary& at(int64_t layer, int64_t head, size_t block) const {
    return summaries[static_cast<size_t>((layer * heads + head)) * options.block_sizes.size() +
                     block];
  }
};

// InvalidInput naming the option: block sizes and top-k not positive or not increasing,
// key_conv < 1, or a block size at which no query can be routed (its relevant key must lie before
// its own block with another block to compare: the samples are too short for it).
void check_snr_options(const SnrOptions& options, const std::vector<SnrQuery>& queries);

// `queries` from snr_queries over `samples` (query.sample indexes them). Runs one forward pass
// per sample; keeps one layer's q and k at a time.
SnrResult sparsity_snr(HookedModel& model, const std::vector<TaskSample>& samples,
                       const std::vector<SnrQuery>& queries, const SnrOptions& options);
// Split over processes (dist/work_split.h): each runs its share of the samples (cost: length),
// the processes exchange their queries' per-query estimates and each adds every query's in
// query order, returning the result one process computes (the same bits).
SnrResult sparsity_snr(HookedModel& model, const std::vector<TaskSample>& samples,
                       const std::vector<SnrQuery>& queries, const SnrOptions& options,
                       const WorkSplit& split);

}  // namespace headscope
