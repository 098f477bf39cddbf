// Head ablation: a task's accuracy and logit difference with and without a set of heads
// knocked out, and the causality check of Wu et al. 2024 (ablating the top-K retrieval heads
// breaks needle retrieval; K random other heads barely matter).
//
//   AblationResult r = ablate_heads(model, {{1, 0}, {1, 3}},
//                                   AblationOptions().with_task("induction").with_samples(64));
//   r.baseline.accuracy, r.ablated.accuracy
//
// Methods (hooks/head_interventions.h): zero and mean replace the head's hook_z (mean: its
// average over real positions of reference samples, seeds seed + n ...); uniform sets the
// head's scores to zero (uniform attention over allowed keys, the Retrieval_Head masking);
// neg-inf masks, for each sample, the keys before the answer that hold one of the answer's
// tokens (the needle's value, IOI's indirect object, the queried color, induction's first
// copy), so the head cannot attend to where the answer comes from.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <torch/types.h>

#include "analyses/tasks/task_score.h"
#include "core/model/transformer.h"
#include "hooks/head_interventions.h"

namespace headscope {

// The interventions that ablate a head (named by intervention_name: zero, mean, uniform, neg-inf).
inline const std::vector<HeadInterventionKind> kAblationMethods = {
    HeadInterventionKind::kZero, HeadInterventionKind::kMean, HeadInterventionKind::kUniform,
    HeadInterventionKind::kNegInfKeys};

struct AblationOptions {
  std::string task = "niah";
  HeadInterventionKind method = HeadInterventionKind::kZero;
  int64_t samples = 100;
  int64_t length = 256;  // tokens per sample where the task has a length (niah, induction)
  uint64_t seed = 0;     // first sample's seed
  int64_t batch_size = 16;
  bool quiet = true;  // no progress bar
  // The samples this call scores, ascending and in whole batches of batch_size (a rank's
  // share, analyses/tasks/score_shards.h); unset: all. The result then holds those samples
  // only; the mean method's reference samples stay all of them.
  std::optional<std::vector<int64_t>> only_samples;

  AblationOptions& with_task(std::string v) { return task = std::move(v), *this; }
  AblationOptions& with_method(HeadInterventionKind v) { return method = v, *this; }
  AblationOptions& with_samples(int64_t v) { return samples = v, *this; }
  AblationOptions& with_length(int64_t v) { return length = v, *this; }
  AblationOptions& with_seed(uint64_t v) { return seed = v, *this; }
  AblationOptions& with_batch_size(int64_t v) { return batch_size = v, *this; }
  AblationOptions& with_quiet(bool v) { return quiet = v, *this; }
};

struct AblationResult {
  std::vector<HeadRef> heads;
  std::vector<TaskSample> samples;  // the samples scored, sample i from seed + i
  TaskScore baseline;  // no intervention
  TaskScore ablated;   // every head of `heads` ablated at once
};

// InvalidInput for bad options (unknown task, a method other than the four above, a head out
// of range, samples the model cannot read); UnsupportedModel for a model outside the zoo's
// vocabulary.
AblationResult ablate_heads(const std::shared_ptr<const Transformer>& model,
                            const std::vector<HeadRef>& heads, const AblationOptions& options);

// The task's score with `heads` ablated on given samples (shared between several head sets);
// options.task, samples, length and seed only choose the mean method's reference samples.
TaskScore score_ablated(const std::shared_ptr<const Transformer>& model,
                        const std::vector<HeadRef>& heads, const std::vector<TaskSample>& samples,
                        const AblationOptions& options);

struct AblationCheck {
  TaskScore baseline;
  std::vector<HeadRef> top;
  TaskScore top_ablated;
  // One entry per draw: K heads drawn among those outside the top `exclude_top`.
  std::vector<std::vector<HeadRef>> random;
  std::vector<TaskScore> random_ablated;
};

// Ablates the k highest-scoring heads of `scores` ([n_layers, n_heads]), then `draws` sets of k
// random heads outside the top `exclude_top` (random sets from seeds options.seed, +1, ...), all
// on the same samples. InvalidInput when k < 1, k or exclude_top exceed the heads, or too few
// heads remain to draw from.
AblationCheck check_top_against_random(const std::shared_ptr<const Transformer>& model,
                                       const torch::Tensor& scores, int64_t k, int64_t exclude_top,
                                       int64_t draws, const AblationOptions& options);

}  // namespace headscope
