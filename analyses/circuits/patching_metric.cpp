#include "analyses/circuits/patching_metric.h"

#include <torch/torch.h>

#include "core/base/error.h"

namespace headscope {

const char* patching_metric_name(PatchingMetric metric) {
  switch (metric) {
    case PatchingMetric::kLogitDiff:
      return "logit-diff";
    case PatchingMetric::kProb:
      return "prob";
    case PatchingMetric::kLogProb:
      return "logprob";
    case PatchingMetric::kKl:
      return "kl";
  }
  HS_ASSERT(false && "unhandled patching metric");
}

torch::Tensor patching_metric(PatchingMetric metric, const torch::Tensor& logits,
                              const torch::Tensor& answers, const torch::Tensor& distractors,
                              const torch::Tensor& clean_logprobs) {
  HS_ASSERT(logits.dim() == 2 && answers.size(0) == logits.size(0));
  const torch::Tensor x = logits.to(torch::kFloat64);
  const auto pick = [&x](const torch::Tensor& ids) {
    return x.gather(1, ids.to(x.device(), torch::kInt64).view({-1, 1})).squeeze(1);
  };
  switch (metric) {
    case PatchingMetric::kLogitDiff:
      return pick(answers) - pick(distractors);
    case PatchingMetric::kProb:
    case PatchingMetric::kLogProb: {
      const torch::Tensor logprob =
          torch::log_softmax(x, 1)
              .gather(1, answers.to(x.device(), torch::kInt64).view({-1, 1}))
              .squeeze(1);
      return metric == PatchingMetric::kProb ? logprob.exp() : logprob;
    }
    case PatchingMetric::kKl: {
      HS_ASSERT(clean_logprobs.sizes() == x.sizes());
      const torch::Tensor p = clean_logprobs.to(x.device(), torch::kFloat64);
      // p log p is 0 where p underflows to 0 (exp(-inf)); the where keeps 0 * -inf out.
      const torch::Tensor terms = p.exp() * (torch::log_softmax(x, 1) - p);
      return torch::where(torch::isfinite(terms), terms, torch::zeros_like(terms)).sum(1);
    }
  }
  HS_ASSERT(false && "unhandled patching metric");
}

}  // namespace headscope
