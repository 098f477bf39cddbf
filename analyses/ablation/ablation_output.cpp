#include "analyses/ablation/ablation_output.h"

#include <cmath>

#include <torch/torch.h>

#include "analyses/ablation/head_selection.h"
#include "analyses/sample_tokens.h"
#include "core/store/analysis_writer.h"
#include "hooks/head_interventions.h"

namespace headscope {
namespace {

std::vector<double> as_f64(const torch::Tensor& t) {
  const auto c = t.to(torch::kFloat64).cpu().contiguous();
  return {c.data_ptr<double>(), c.data_ptr<double>() + c.numel()};
}

std::vector<int64_t> as_i64(const torch::Tensor& t) {
  const auto c = t.to(torch::kInt64).cpu().contiguous();
  return {c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel()};
}

// The summary numbers of a score as attributes prefix_accuracy, prefix_token_accuracy, ...
void score_attributes(AnalysisWriter& out, const std::string& prefix, const TaskScore& score) {
  out.set_attribute("", prefix + "_accuracy", score.accuracy);
  out.set_attribute("", prefix + "_token_accuracy", score.token_accuracy);
  out.set_attribute("", prefix + "_answer_loss", score.answer_loss);
  if (score.mean_logit_diff) {
    out.set_attribute("", prefix + "_logit_diff", *score.mean_logit_diff);
    out.set_attribute("", prefix + "_fraction_positive", *score.fraction_positive);
  }
}

void per_sample(AnalysisWriter& out, const std::string& prefix, const TaskScore& score) {
  const std::vector<int64_t> correct(score.sample_correct.begin(), score.sample_correct.end());
  out.write_i64(prefix + "_correct", {score.samples}, correct, {"sample"});
  if (score.mean_logit_diff) {
    out.write_f64(prefix + "_logit_diff", {score.samples}, score.sample_logit_diff, {"sample"});
  }
}

void task_attributes(AnalysisWriter& out, const std::string& task, int64_t samples, int64_t length,
                     uint64_t seed, int64_t batch_size) {
  out.set_attribute("", "task", task);
  out.set_attribute("", "samples", samples);
  out.set_attribute("", "length", length);
  out.set_attribute("", "seed", static_cast<int64_t>(seed));
  out.set_attribute("", "batch_size", batch_size);
  out.set_attribute("", "sample_seeds", "seed + i for sample i; niah depth (i + 0.5) / samples");
}

}  // namespace

void write_ablation(const AnalysisTarget& target, const AblationResult& result,
                    const AblationOptions& options, const HeadSelection& selection) {
  AnalysisWriter out = AnalysisWriter::begin(target, kAblationGroup);
  task_attributes(out, options.task, options.samples, options.length, options.seed,
                  options.batch_size);
  out.set_attribute("", "method", intervention_name(options.method));
  if (options.method == HeadInterventionKind::kMean) {
    out.set_attribute("", "mean_reference",
                      "hook_z averaged over the real positions of samples seeds seed + samples "
                      "... seed + 2 x samples - 1");
  }
  if (options.method == HeadInterventionKind::kNegInfKeys) {
    out.set_attribute("", "masked_keys", "positions before the answer holding an answer token");
  }
  out.set_attribute("", "heads", format_heads(result.heads));
  out.set_attribute("", "selection", selection.rule);
  if (selection.rule != "list") {
    out.set_attribute("", "from", selection.from);
    out.set_attribute("", "from_dataset", selection.dataset);
    out.set_attribute("", "k", selection.k);
  }
  if (selection.rule == "random") {
    out.set_attribute("", "exclude_top", selection.exclude_top);
    out.set_attribute("", "head_seed", static_cast<int64_t>(selection.seed));
  }
  score_attributes(out, "baseline", result.baseline);
  score_attributes(out, "ablated", result.ablated);

  const auto k = static_cast<int64_t>(result.heads.size());
  std::vector<int64_t> layers, heads;
  auto mask = torch::zeros({target.model.n_layers, target.model.n_heads}, torch::kInt64);
  for (const HeadRef& h : result.heads) {
    layers.push_back(h.layer);
    heads.push_back(h.head);
    mask[h.layer][h.head] = 1;
  }
  out.write_i64("ablated_layer", {k}, layers, {"ablated"});
  out.write_i64("ablated_head", {k}, heads, {"ablated"});
  out.write_i64("mask", {target.model.n_layers, target.model.n_heads}, as_i64(mask),
                {"layer", "head"});
  per_sample(out, "baseline", result.baseline);
  per_sample(out, "ablated", result.ablated);
  write_task_samples(out, result.samples, {static_cast<int64_t>(result.samples.size())},
                     {"sample"});
  out.commit();
}

void write_importance(const AnalysisTarget& target, const ImportanceResult& result,
                      const ImportanceOptions& options) {
  AnalysisWriter out = AnalysisWriter::begin(target, kHeadImportanceGroup);
  task_attributes(out, options.task, options.samples, options.length, options.seed,
                  options.batch_size);
  out.set_attribute("", "method", "michel2019");
  out.set_attribute("", "loss", "mean cross-entropy of the sample's answer tokens");
  out.set_attribute("", "mask_variable", "per-head multiplier on hook_z, one per sample");
  out.set_attribute("", "normalization", "layer_l2 over kept heads");
  out.set_attribute("", "metric", prune_metric_name(options.metric));
  out.set_attribute("", "step_fraction", options.step_fraction);
  out.set_attribute("", "threshold", options.threshold);
  out.set_attribute("", "unpruned_metric", result.unpruned_metric);
  const int64_t prunable = target.model.n_layers * target.model.n_heads -
                           static_cast<int64_t>(result.mask.sum().item<double>());
  out.set_attribute("", "heads_prunable", prunable);

  const std::vector<int64_t> grid = {target.model.n_layers, target.model.n_heads};
  const std::vector<std::string> axes = {"layer", "head"};
  out.write_f64("importance", grid, as_f64(result.importance), axes);
  out.write_f64("importance_raw", grid, as_f64(result.importance_raw), axes);
  out.write_i64("pruned_at", grid, as_i64(result.pruned_at), axes);
  out.write_i64("mask", grid, as_i64(result.mask), axes);

  const auto steps = static_cast<int64_t>(result.curve.size());
  std::vector<int64_t> pruned;
  std::vector<double> metric, accuracy, token_accuracy, loss, logit_diff;
  for (const PruningStep& s : result.curve) {
    pruned.push_back(s.heads_pruned);
    metric.push_back(s.metric);
    accuracy.push_back(s.score.accuracy);
    token_accuracy.push_back(s.score.token_accuracy);
    loss.push_back(s.score.answer_loss);
    logit_diff.push_back(s.score.mean_logit_diff.value_or(std::nan("")));
  }
  out.write_i64("curve_heads_pruned", {steps}, pruned, {"step"});
  out.write_f64("curve_metric", {steps}, metric, {"step"});
  out.write_f64("curve_accuracy", {steps}, accuracy, {"step"});
  out.write_f64("curve_token_accuracy", {steps}, token_accuracy, {"step"});
  out.write_f64("curve_answer_loss", {steps}, loss, {"step"});
  if (result.curve.front().score.mean_logit_diff) {
    out.write_f64("curve_logit_diff", {steps}, logit_diff, {"step"});
  }
  write_task_samples(out, result.samples, {static_cast<int64_t>(result.samples.size())},
                     {"sample"});
  out.commit();
}

}  // namespace headscope
