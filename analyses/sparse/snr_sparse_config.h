// Per-head block-sparse configs chosen from a sparsity SNR measurement (`headscope snr`,
// /analyses/sparsity_snr; docs/SPARSE_CONFIGS.md, "From SNR measurements"): each head gets the
// largest measured block size whose router recall@k reaches a target, with the smallest such k,
// among the (B, k) whose kept fraction at the evaluation length fits a budget. Heads that reach
// the target nowhere stay full, or streaming where the file's retrieval score says they never
// retrieve.
//
//   SnrRouting routing = read_snr_routing("snr.h5");
//   SparseModelConfig c = config_from_snr(routing, SnrConfigOptions().with_recall(0.9));
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <torch/types.h>

#include "core/checkpoint/sparse_model_config.h"

namespace headscope {

// What a sparsity SNR file says about routing.
struct SnrRouting {
  std::string path;
  int64_t n_layers = 0, n_heads = 0;
  int64_t length = 0;  // tokens per measured sample (the group's `length` attribute)
  std::vector<int64_t> block_sizes, topk;
  std::vector<double> recall;  // [layer, head, block size, k]; NaN where nothing was routed
  // /analyses/retrieval_heads/score of the same file, float64 [layer, head], when it has one.
  std::optional<torch::Tensor> retrieval_score;

  double recall_at(int64_t layer, int64_t head, size_t block, size_t k) const;
};

// IoError when the file cannot be opened; InvalidInput naming the file and object when it has no
// /analyses/sparsity_snr, or its recall, block_size or topk are missing or misshapen.
SnrRouting read_snr_routing(const std::string& path);

struct SnrConfigOptions {
  double recall = 0.95;           // target router recall@k, in (0, 1]
  double budget = 1.0;            // largest kept fraction a block-sparse head may have, in (0, 1]
  std::optional<int64_t> length;  // where the kept fraction is evaluated; unset: the file's
  int64_t sink = 4, window = 64;  // streaming heads (those that never retrieve)

  SnrConfigOptions& with_recall(double v) { return recall = v, *this; }
  SnrConfigOptions& with_budget(double v) { return budget = v, *this; }
  SnrConfigOptions& with_length(int64_t v) { return length = v, *this; }
  SnrConfigOptions& with_sink(int64_t v) { return sink = v, *this; }
  SnrConfigOptions& with_window(int64_t v) { return window = v, *this; }
};

// InvalidInput naming the option (--recall, --budget, --length, --sink, --window).
void check_snr_config_options(const SnrConfigOptions& options);

// Per head: the largest block size B of the file, with the smallest measured k whose recall@k
// is at least options.recall, such that a block_sparse(B, k) head keeps at most options.budget
// of the causal entries at the evaluation length; none: streaming(sink, window) when the file
// has a retrieval score and the head's is <= 0, else full. `parameters` records the rule, the
// options, each head's recall and the config's kept fraction.
SparseModelConfig config_from_snr(const SnrRouting& routing, const SnrConfigOptions& options);

// Kept causal entries over T(T+1)/2 of one head at length T; equals what sparse_kept_fraction
// measures (block_sparse keeps min(a, k) whole earlier blocks and its own block causally for
// every query block a, whatever blocks it selects).
double head_kept_fraction(const SparseHeadConfig& head, int64_t length);
// Mean of head_kept_fraction over every head of the config.
double config_kept_fraction(const SparseModelConfig& config, int64_t length);

}  // namespace headscope
