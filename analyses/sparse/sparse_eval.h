// Validation of sparse configs: task accuracy of the model run with each config applied, next
// to dense, and the fraction of causal attention entries each config keeps.
//
//   auto result = evaluate_sparse_configs(model, {{"dense", dense}, {"retrieval@0.5", cfg}},
//                                         SparseEvalOptions().with_lengths({256, 512}));
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/checkpoint/sparse_model_config.h"
#include "analyses/tasks/task_sample.h"
#include "core/model/transformer.h"

namespace headscope {

struct SparseEvalOptions {
  std::string task = "niah";
  int64_t samples = 16;  // per length
  std::vector<int64_t> lengths = {256};
  uint64_t seed = 1;
  int64_t batch_size = 4;
  bool quiet = false;
  // Which units (a length's batch; cost samples x length) this call runs, given every unit's
  // cost, in length then batch order; unset: all. A rank of a distributed launch passes its
  // share (cli/distributed_scan.h) and combine_sparse_eval_rows adds the ranks' rows.
  std::function<std::vector<int64_t>(const std::vector<double>& costs)> share;

  SparseEvalOptions& with_task(std::string v) { return task = std::move(v), *this; }
  SparseEvalOptions& with_samples(int64_t v) { return samples = v, *this; }
  SparseEvalOptions& with_lengths(std::vector<int64_t> v) { return lengths = std::move(v), *this; }
  SparseEvalOptions& with_seed(uint64_t v) { return seed = v, *this; }
  SparseEvalOptions& with_batch_size(int64_t v) { return batch_size = v, *this; }
  SparseEvalOptions& with_quiet(bool v) { return quiet = v, *this; }
};

struct NamedSparseConfig {
  std::string name;  // "dense", "config", "retrieval@0.5", "random@0.5#2", ...
  SparseModelConfig config;
};

struct SparseEvalRow {
  std::string config;
  double sparse_heads = 0.0;  // fraction of heads not full
  int64_t length = 0;
  int64_t samples = 0;
  double accuracy = 0.0;        // every answer token the argmax (teacher-forced)
  double token_accuracy = 0.0;  // answer tokens that are the argmax
  double kept_fraction = 1.0;   // causal attention entries kept, mean over layers and heads
  // The counts behind the accuracies, and whether this call ran the length's first batch,
  // which measures kept_fraction: what combine_sparse_eval_rows adds up.
  int64_t correct = 0, answer_tokens = 0, answer_tokens_right = 0;
  bool measured_kept = false;
};

struct SparseEvalResult {
  std::vector<SparseEvalRow> rows;  // config-major, then length
  // The samples of each length (options.lengths order); every config reads the same ones.
  std::vector<std::vector<TaskSample>> samples;
};

// InvalidInput for an unknown task, bad lengths or counts, or a config whose shape differs
// from the model's; UnsupportedModel when the model cannot hand its attention over (a sliding
// window shorter than a length).
// Adds the rows of `part` (the same configs and lengths, another share of the samples) into
// `into` and recomputes the accuracies from the summed counts: the rows of every share combined
// equal the rows of one call over all samples.
void combine_sparse_eval_rows(std::vector<SparseEvalRow>& into,
                              const std::vector<SparseEvalRow>& part);

SparseEvalResult evaluate_sparse_configs(std::shared_ptr<const Transformer> model,
                                         const std::vector<NamedSparseConfig>& configs,
                                         const SparseEvalOptions& options);

}  // namespace headscope
