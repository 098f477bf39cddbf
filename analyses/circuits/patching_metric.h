// What a patching run is scored by, at each pair's scored position, in float64:
//
//   logit-diff  logit(answer) - logit(distractor)
//   prob        softmax probability of the answer
//   logprob     its log-probability
//   kl          -KL(clean || run) of the whole next-token distribution: 0 for the clean run and
//               negative otherwise, so that, like the others, it is higher the closer the run is
//               to the clean behaviour and the normalised score below is 1 for clean, 0 for
//               corrupted: 1 - KL(clean || patched) / KL(clean || corrupted) on one pair.
//
// Normalised score = (m(patched) - m(corrupted)) / (m(clean) - m(corrupted)), each m the mean
// over the pairs (TransformerLens' convention).
#pragma once

#include <vector>

#include <torch/types.h>

namespace headscope {

enum class PatchingMetric { kLogitDiff, kProb, kLogProb, kKl };

inline const std::vector<PatchingMetric> kPatchingMetrics = {
    PatchingMetric::kLogitDiff, PatchingMetric::kProb, PatchingMetric::kLogProb,
    PatchingMetric::kKl};

// "logit-diff", "prob", "logprob", "kl": the words of --metric and of the output's attribute.
const char* patching_metric_name(PatchingMetric metric);

// The metric of each row, [R] float64 on the logits' device. logits: [R, vocab] at the scored
// position (any floating dtype); answers, distractors: [R] int64 (distractors read only for
// logit-diff); clean_logprobs: [R, vocab] float64 log-softmax of the clean run (read only for kl).
torch::Tensor patching_metric(PatchingMetric metric, const torch::Tensor& logits,
                              const torch::Tensor& answers, const torch::Tensor& distractors,
                              const torch::Tensor& clean_logprobs);

// (patched - corrupted) / (clean - corrupted).
inline double normalised_score(double patched, double clean, double corrupted) {
  return (patched - corrupted) / (clean - corrupted);
}

}  // namespace headscope
