// headscope importance MODEL --task T [--metric accuracy|token-accuracy|logit-diff] [--n N]
//   [--length L] [--seed S] [--step-fraction F] [--metric-fraction R] [--device D]
//   [--out FILE.h5 [--append|--force]] [--json]
#include <algorithm>
#include <cstdio>
#include <iostream>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "analyses/ablation/ablation_output.h"
#include "analyses/ablation/evaluation_samples.h"
#include "analyses/tasks/generate_task.h"
#include "cli/choice_option.h"
#include "cli/cli_args.h"
#include "cli/commands.h"
#include "cli/distributed_scan.h"
#include "cli/option_groups.h"
#include "core/store/analysis_writer.h"
#include "hooks/activation_recorder.h"

namespace headscope::cli {
namespace {

struct ImportanceArgs {
  ModelArgs model;
  SampleArgs samples;
  OutputArgs out;
  PruneMetric metric = PruneMetric::kAccuracy;
  double step_fraction = 0.1, metric_fraction = 0.9;
  bool json = false, quiet = false;
};

std::vector<std::vector<double>> rows(const torch::Tensor& t) {
  const auto c = t.to(torch::kFloat64).cpu().contiguous();
  std::vector<std::vector<double>> out(static_cast<size_t>(c.size(0)));
  for (int64_t i = 0; i < c.size(0); ++i) {
    out[static_cast<size_t>(i)].assign(c[i].data_ptr<double>(),
                                       c[i].data_ptr<double>() + c.size(1));
  }
  return out;
}

void print_text(const ImportanceResult& r, const ImportanceOptions& o) {
  std::printf(
      "%s, n=%lld, length %lld, seed %llu: head importance (Michel et al. 2019, "
      "layer-normalised)\nlayer",
      o.task.c_str(), static_cast<long long>(o.samples), static_cast<long long>(o.length),
      static_cast<unsigned long long>(o.seed));
  const auto table = rows(r.importance);
  for (size_t h = 0; h < table[0].size(); ++h) std::printf(" %6zu", h);
  std::printf("\n");
  for (size_t layer = 0; layer < table.size(); ++layer) {
    std::printf("%5zu", layer);
    for (double v : table[layer]) std::printf(" %6.3f", v);
    std::printf("\n");
  }
  std::printf("\npruning (%s, stop under %.2f x %.3f)\nheads pruned  %s\n",
              prune_metric_name(o.metric), o.threshold, r.unpruned_metric,
              prune_metric_name(o.metric));
  for (const PruningStep& s : r.curve) {
    std::printf("%12lld  %.3f\n", static_cast<long long>(s.heads_pruned), s.metric);
  }
  const auto kept = static_cast<int64_t>(r.mask.sum().item<double>());
  std::printf("%lld of %lld heads can go while %s stays at or above %.2f x its value\n",
              static_cast<long long>(r.mask.numel() - kept), static_cast<long long>(r.mask.numel()),
              prune_metric_name(o.metric), o.threshold);
}

void run(const ImportanceArgs& args) {
  const OutputMode mode = output_mode(args.out, OutputKind::kAnalysisFile);
  check_task_name(args.samples.task);
  const PruneMetric metric = args.metric;
  DistributedScan scan;
  const auto model = load_model(scan.rank_model(args.model));
  const ModelSummary summary = summarize(*model);
  if (!args.out.path.empty()) check_analysis_target(args.out.path, summary, mode);
  const ImportanceOptions options = ImportanceOptions()
                                        .with_task(args.samples.task)
                                        .with_samples(args.samples.n)
                                        .with_length(sample_length(args.samples, model->config()))
                                        .with_seed(args.samples.seed)
                                        .with_batch_size(args.samples.batch)
                                        .with_metric(metric)
                                        .with_step_fraction(args.step_fraction)
                                        .with_threshold(args.metric_fraction)
                                        .with_quiet(args.quiet);
  // Under a launch each rank runs its share of every pass; every rank ends with the result.
  const ImportanceResult result = prune_by_importance(model, options, scan.work_split());
  if (!scan.root()) return;
  if (!args.out.path.empty()) write_importance({args.out.path, summary, mode}, result, options);

  if (args.json) {
    nlohmann::ordered_json curve = nlohmann::ordered_json::array();
    for (const PruningStep& s : result.curve) {
      curve.push_back({{"heads_pruned", s.heads_pruned}, {"metric", s.metric}});
    }
    nlohmann::ordered_json j{{"task", options.task},
                             {"metric", prune_metric_name(metric)},
                             {"samples", options.samples},
                             {"length", options.length},
                             {"seed", options.seed},
                             {"unpruned_metric", result.unpruned_metric},
                             {"importance", rows(result.importance)},
                             {"mask", rows(result.mask)},
                             {"curve", curve}};
    std::cout << j.dump() << "\n";
    return;
  }
  print_text(result, options);
  if (!args.out.path.empty()) {
    std::cout << "wrote /analyses/" << kHeadImportanceGroup << " to " << args.out.path << "\n";
  }
}

}  // namespace

void add_importance_command(CLI::App& app) {
  auto args = std::make_shared<ImportanceArgs>();
  auto* cmd = app.add_subcommand(
      "importance", "Head importance (Michel et al. 2019) and iterative pruning on a task");
  ModelOptionSet model;
  model.help = "Model directory (a zoo model: the tasks use its vocabulary)";
  model.default_dtype = "f32";
  add_model_options(*cmd, args->model, model);
  SampleDefaults samples;
  samples.n = 64;
  samples.batch = 8;
  add_sample_options(*cmd, args->samples, samples);
  add_choice_option(*cmd, "--metric", args->metric, choices_named(kPruneMetrics, prune_metric_name),
                    "What pruning keeps (logit-diff: ioi and colors)");
  cmd->add_option("--step-fraction", args->step_fraction,
                  "Fraction of all heads pruned per step, in (0, 1]")
      ->capture_default_str()
      ->check(number_in(0.0, 1.0));
  cmd->add_option("--metric-fraction", args->metric_fraction,
                  "Stop once the metric falls under this fraction of its unpruned value, in "
                  "(0, 1]")
      ->capture_default_str()
      ->check(number_in(0.0, 1.0));
  add_output_options(*cmd, args->out, OutputKind::kAnalysisFile,
                     "HDF5 file to write /analyses/head_importance into", false);
  add_json_flag(*cmd, args->json);
  add_quiet_flag(*cmd, args->quiet);
  cmd->callback([args] { run(*args); });
}

}  // namespace headscope::cli
