#include "analyses/ablation/head_importance.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include <torch/torch.h>

#include "analyses/ablation/evaluation_samples.h"
#include "analyses/tasks/score_shards.h"
#include "analyses/tasks/vocabulary.h"
#include "core/base/error.h"
#include "core/base/progress_bar.h"
#include "dist/byte_codec.h"
#include "hooks/hooked_model.h"

namespace headscope {
namespace {

// Keeps a layer whose kept heads all have zero gradient at zero instead of 0/0.
constexpr double kNormEpsilon = 1e-20;

// Sum over samples of their mean answer-token cross-entropy. logits [B, T, V].
torch::Tensor answer_loss_sum(const torch::Tensor& logits, const std::vector<TaskSample>& batch) {
  const auto log_probs = logits.to(torch::kFloat32).log_softmax(-1);
  torch::Tensor total = torch::zeros({}, log_probs.options());
  for (size_t b = 0; b < batch.size(); ++b) {
    const TaskSample& s = batch[b];
    const int64_t n = s.answer_end - s.answer_begin;
    // Token t is predicted at position t - 1.
    const auto rows = log_probs[static_cast<int64_t>(b)].narrow(0, s.answer_begin - 1, n);
    auto targets = torch::empty({n}, torch::kInt64);
    for (int64_t i = 0; i < n; ++i) {
      targets[i] = static_cast<int64_t>(s.tokens[static_cast<size_t>(s.answer_begin + i)]);
    }
    const auto picked = rows.gather(1, targets.to(rows.device()).unsqueeze(1));
    total = total - picked.mean();
  }
  return total;
}

void check_options(const ModelConfig& c, const ImportanceOptions& o) {
  check_task_name(o.task);
  if (o.batch_size < 1) {
    throw InvalidInput("batch size: expected at least 1, got " + std::to_string(o.batch_size));
  }
  if (!(o.step_fraction > 0.0 && o.step_fraction <= 1.0)) {
    throw InvalidInput("step fraction: expected a value in (0, 1], got " +
                       std::to_string(o.step_fraction));
  }
  if (!(o.threshold > 0.0 && o.threshold <= 1.0)) {
    throw InvalidInput("threshold: expected a value in (0, 1], got " + std::to_string(o.threshold));
  }
  HS_ASSERT(c.n_layers > 0 && c.n_heads > 0);
}

// The batches `batches` of a pass (batch b: samples [b x batch_size, ...)), each as an item of
// exchange_items: the sum over its samples of |dL/dxi_h| ([n_layers, n_heads] float64) and its
// samples' scores (put_sample_scores).
std::map<int64_t, std::string> importance_batches(const std::shared_ptr<const Transformer>& model,
                                                  const std::vector<TaskSample>& samples,
                                                  const torch::Tensor& mask, int64_t batch_size,
                                                  const std::vector<int64_t>& batches) {
  const ModelConfig& c = model->config();
  HS_ASSERT(batch_size > 0);
  HS_ASSERT(mask.dim() == 2 && mask.size(0) == c.n_layers && mask.size(1) == c.n_heads);
  const auto device = model->device();
  const auto kept = mask.to(torch::kFloat32).to(device);
  HookedModel hooked(model);
  // xi of the batch being run, [B, n_layers, n_heads]; the hooks read it through this handle.
  auto xi = std::make_shared<torch::Tensor>();
  for (int64_t layer = 0; layer < c.n_layers; ++layer) {
    hooked.add_hook("blocks." + std::to_string(layer) + ".attn.hook_z",
                    [xi, layer](const torch::Tensor& z, const HookContext&) {
                      // z [B, T, H, D] times xi[b, layer, h].
                      const auto factor = xi->select(1, layer).unsqueeze(1).unsqueeze(-1);
                      return std::optional<torch::Tensor>(z * factor.to(z.scalar_type()));
                    });
  }
  std::map<int64_t, std::string> items;
  for (const int64_t b : batches) {
    const auto first = static_cast<size_t>(b * batch_size);
    HS_ASSERT(b >= 0 && first < samples.size());
    const size_t last = std::min(samples.size(), first + static_cast<size_t>(batch_size));
    const std::vector<TaskSample> chunk(samples.begin() + first, samples.begin() + last);
    const auto batch = static_cast<int64_t>(chunk.size());
    *xi = kept.unsqueeze(0).expand({batch, c.n_layers, c.n_heads}).clone().requires_grad_(true);
    const auto logits = hooked.forward(pad_samples(chunk, Vocabulary::builtin().pad()).to(device));
    TaskScorer scorer(chunk.front().task);
    scorer.add(logits, chunk);
    // Sample b's loss depends only on xi[b]: one backward gives every per-sample gradient.
    const auto loss = answer_loss_sum(logits, chunk);
    const auto grad = torch::autograd::grad({loss}, {*xi})[0];
    ByteWriter item;
    item.put_tensor(grad.abs().sum(0).to(torch::kFloat64).cpu());
    put_sample_scores(item, scorer.result());
    items[b] = item.bytes();
  }
  return items;
}

}  // namespace

const char* prune_metric_name(PruneMetric metric) {
  switch (metric) {
    case PruneMetric::kAccuracy:
      return "accuracy";
    case PruneMetric::kTokenAccuracy:
      return "token-accuracy";
    case PruneMetric::kLogitDiff:
      return "logit-diff";
  }
  HS_ASSERT(false && "unhandled prune metric");
}

double metric_value(const TaskScore& score, PruneMetric metric) {
  switch (metric) {
    case PruneMetric::kAccuracy:
      return score.accuracy;
    case PruneMetric::kTokenAccuracy:
      return score.token_accuracy;
    case PruneMetric::kLogitDiff:
      if (!score.mean_logit_diff) {
        throw InvalidInput("metric logit-diff: task " + score.task +
                           " has no distractor to compare with (ioi and colors have one)");
      }
      return *score.mean_logit_diff;
  }
  HS_ASSERT(false && "unhandled prune metric");
}

HeadImportance head_importance(const std::shared_ptr<const Transformer>& model,
                               const std::vector<TaskSample>& samples, const torch::Tensor& mask,
                               int64_t batch_size) {
  return head_importance(model, samples, mask, batch_size, WorkSplit{});
}

HeadImportance head_importance(const std::shared_ptr<const Transformer>& model,
                               const std::vector<TaskSample>& samples, const torch::Tensor& mask,
                               int64_t batch_size, const WorkSplit& split) {
  HS_ASSERT(!samples.empty() && batch_size > 0);
  const auto n = static_cast<int64_t>(samples.size());
  const std::vector<double> costs = batch_costs(n, batch_size);
  std::vector<int64_t> mine(costs.size());
  std::iota(mine.begin(), mine.end(), int64_t{0});
  if (split.active()) mine = split.share(costs);
  const std::vector<std::string> items =
      exchange_items(split, importance_batches(model, samples, mask, batch_size, mine),
                     static_cast<int64_t>(costs.size()), "importance");
  // Every batch's gradient sum added in batch order, by every process alike.
  auto raw = torch::zeros({mask.size(0), mask.size(1)}, torch::kFloat64);
  ScoreAssembler scores(n);
  for (size_t b = 0; b < items.size(); ++b) {
    ByteReader in(items[b], "importance of batch " + std::to_string(b));
    raw += in.get_tensor();
    scores.read(in, batch_samples({static_cast<int64_t>(b)}, batch_size, n));
  }
  raw /= static_cast<double>(n);
  const auto kept_cpu = mask.to(torch::kFloat64).cpu();
  const auto kept_raw = raw * kept_cpu;
  const auto norms = kept_raw.pow(2).sum(1, true).sqrt() + kNormEpsilon;
  return HeadImportance{raw, kept_raw / norms, scores.result(samples.front().task, samples)};
}

ImportanceResult prune_by_importance(const std::shared_ptr<const Transformer>& model,
                                     const ImportanceOptions& options) {
  return prune_by_importance(model, options, WorkSplit{});
}

ImportanceResult prune_by_importance(const std::shared_ptr<const Transformer>& model,
                                     const ImportanceOptions& options, const WorkSplit& split) {
  const ModelConfig& c = model->config();
  check_options(c, options);
  const std::vector<TaskSample> samples =
      evaluation_samples(c, options.task, options.samples, options.length, options.seed);
  if (options.metric == PruneMetric::kLogitDiff && samples[0].distractor < 0) {
    throw InvalidInput("metric logit-diff: task " + options.task +
                       " has no distractor to compare with (ioi and colors have one)");
  }
  const int64_t total = c.n_layers * c.n_heads;
  const int64_t per_step = std::max<int64_t>(
      1, static_cast<int64_t>(std::floor(static_cast<double>(total) * options.step_fraction)));
  const int64_t max_steps = (total + per_step - 1) / per_step;
  ProgressBar bar("importance " + options.task, 1 + max_steps, options.quiet);

  auto mask = torch::ones({c.n_layers, c.n_heads}, torch::kFloat64);
  HeadImportance current = head_importance(model, samples, mask, options.batch_size, split);
  bar.advance();
  ImportanceResult result;
  result.importance = current.normalized;
  result.importance_raw = current.raw;
  result.pruned_at = torch::zeros({c.n_layers, c.n_heads}, torch::kInt64);
  result.unpruned_metric = metric_value(current.score, options.metric);
  if (!(result.unpruned_metric > 0.0)) {
    throw InvalidInput(std::string("pruning: the unpruned model's ") +
                       prune_metric_name(options.metric) + " on " + options.task + " is " +
                       std::to_string(result.unpruned_metric) +
                       "; pruning keeps a fraction of a positive metric (is the model trained "
                       "on this task?)");
  }
  result.curve.push_back({0, result.unpruned_metric, current.score});
  result.mask = mask.clone();
  const double floor = options.threshold * result.unpruned_metric;

  int64_t pruned = 0;
  for (int64_t step = 1; pruned < total; ++step) {
    // Kept heads by ascending normalised importance; ties by (layer, head).
    const auto importance = current.normalized.contiguous();
    const double* value = importance.data_ptr<double>();
    const double* keep = mask.data_ptr<double>();
    std::vector<int64_t> order;
    for (int64_t i = 0; i < total; ++i) {
      if (keep[i] != 0.0) order.push_back(i);
    }
    std::stable_sort(order.begin(), order.end(),
                     [value](int64_t a, int64_t b) { return value[a] < value[b]; });
    const int64_t now = std::min<int64_t>(per_step, static_cast<int64_t>(order.size()));
    for (int64_t i = 0; i < now; ++i) {
      const int64_t idx = order[static_cast<size_t>(i)];
      mask.view(-1)[idx] = 0.0;
      result.pruned_at.view(-1)[idx] = step;
    }
    pruned += now;
    current = head_importance(model, samples, mask, options.batch_size, split);
    bar.advance();
    const double metric = metric_value(current.score, options.metric);
    result.curve.push_back({pruned, metric, current.score});
    if (metric < floor) break;
    result.mask = mask.clone();
  }
  result.samples = samples;
  return result;
}

}  // namespace headscope
