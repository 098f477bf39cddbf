// Head importance and iterative pruning after Michel, Levy & Neubig 2019 ("Are Sixteen Heads
// Really Better than One?").
//
// Each head's hook_z is multiplied by a mask variable xi_h (1 for a kept head, 0 for a pruned
// one). Its importance is I_h = E_x |dL(x)/dxi_h| at the current mask, L(x) being the mean
// cross-entropy of sample x's answer tokens; xi carries one copy per sample so each sample's
// gradient is exact (not the absolute value of a batch sum). Scores are then divided by their
// layer's L2 norm (over the heads still kept). Pruning masks the step_fraction x (all heads)
// least important kept heads (at least one), recomputes importance with the new mask, and stops
// once the task metric falls below threshold x its unpruned value.
//
//   ImportanceResult r = prune_by_importance(model, ImportanceOptions().with_task("ioi"));
//   r.importance  // [n_layers, n_heads], layer-normalised, at the full model
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

#include "analyses/tasks/task_score.h"
#include "core/model/transformer.h"
#include "dist/work_split.h"

namespace headscope {

enum class PruneMetric : uint8_t { kAccuracy, kTokenAccuracy, kLogitDiff };

inline const std::vector<PruneMetric> kPruneMetrics = {
    PruneMetric::kAccuracy, PruneMetric::kTokenAccuracy, PruneMetric::kLogitDiff};
const char* prune_metric_name(PruneMetric metric);
// The metric's value in a score; InvalidInput when the task has no logit difference.
double metric_value(const TaskScore& score, PruneMetric metric);

struct ImportanceOptions {
  std::string task = "niah";
  int64_t samples = 64;
  int64_t length = 256;  // tokens per sample where the task has a length (niah, induction)
  uint64_t seed = 0;     // first sample's seed
  int64_t batch_size = 8;
  PruneMetric metric = PruneMetric::kAccuracy;
  double step_fraction = 0.1;  // of all heads, masked per pruning step
  double threshold = 0.9;      // stop when metric < threshold x unpruned metric
  bool quiet = true;           // no progress bar

  ImportanceOptions& with_task(std::string v) { return task = std::move(v), *this; }
  ImportanceOptions& with_samples(int64_t v) { return samples = v, *this; }
  ImportanceOptions& with_length(int64_t v) { return length = v, *this; }
  ImportanceOptions& with_seed(uint64_t v) { return seed = v, *this; }
  ImportanceOptions& with_batch_size(int64_t v) { return batch_size = v, *this; }
  ImportanceOptions& with_metric(PruneMetric v) { return metric = v, *this; }
  ImportanceOptions& with_step_fraction(double v) { return step_fraction = v, *this; }
  ImportanceOptions& with_threshold(double v) { return threshold = v, *this; }
  ImportanceOptions& with_quiet(bool v) { return quiet = v, *this; }
};

struct HeadImportance {
  torch::Tensor raw;         // [n_layers, n_heads] float64: E_x |dL/dxi_h|
  torch::Tensor normalized;  // raw / its layer's L2 norm over kept heads; 0 for pruned heads
  TaskScore score;           // the task score under the mask, from the same forward passes
};

// One importance pass over `samples` at `mask` ([n_layers, n_heads], 1 kept, 0 pruned; CPU or
// the model's device). HS_ASSERT on a mis-shaped mask or no samples.
HeadImportance head_importance(const std::shared_ptr<const Transformer>& model,
                               const std::vector<TaskSample>& samples, const torch::Tensor& mask,
                               int64_t batch_size);

// The pass split over processes (dist/work_split.h) by whole batches: each runs its share, the
// processes exchange every batch's gradient sums and sample scores, and each combines them in
// batch order as one process does (the same bits), so every process prunes the same heads.
HeadImportance head_importance(const std::shared_ptr<const Transformer>& model,
                               const std::vector<TaskSample>& samples, const torch::Tensor& mask,
                               int64_t batch_size, const WorkSplit& split);

struct PruningStep {
  int64_t heads_pruned = 0;
  double metric = 0.0;
  TaskScore score;
};

struct ImportanceResult {
  torch::Tensor importance;      // [n_layers, n_heads] float64, normalised, unpruned model
  torch::Tensor importance_raw;  // the same before normalisation
  // The step at which each head was pruned (1, 2, ...), 0 for heads never pruned, int64.
  torch::Tensor pruned_at;
  // The last mask whose metric stayed at or above threshold x the unpruned metric (float64).
  torch::Tensor mask;
  std::vector<PruningStep> curve;  // curve[0]: nothing pruned; the last may be below threshold
  double unpruned_metric = 0.0;
  std::vector<TaskSample> samples;  // every step's samples, sample i from seed + i
};

// InvalidInput for bad options (unknown task, step_fraction outside (0, 1], threshold outside
// (0, 1], logit-diff on a task without one, an unpruned metric <= 0: nothing to keep);
// UnsupportedModel for a model outside the zoo's vocabulary.
ImportanceResult prune_by_importance(const std::shared_ptr<const Transformer>& model,
                                     const ImportanceOptions& options);

// Every pass split over the processes of `split`; each process returns the whole result.
ImportanceResult prune_by_importance(const std::shared_ptr<const Transformer>& model,
                                     const ImportanceOptions& options, const WorkSplit& split);

}  // namespace headscope
