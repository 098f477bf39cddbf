// headscope patch MODEL (--task T [--n N] [--length L] [--seed S] | --dataset FILE.jsonl)
//   [--hook z|pattern|q|k|v|result|attn_out|mlp_out|resid_pre]
//   [--per head|head-position|layer|layer-position] [--direction denoise|noise]
//   [--metric logit-diff|prob|logprob|kl] [--batch B] [--device D] [--dtype T]
//   [--out FILE.h5 [--append|--force]] [--json] [--quiet]
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <numeric>

#include <nlohmann/json.hpp>

#include "analyses/ablation/evaluation_samples.h"
#include "analyses/circuits/activation_patching.h"
#include "analyses/circuits/patching_output.h"
#include "analyses/circuits/task_pairs.h"
#include "cli/choice_option.h"
#include "cli/cli_args.h"
#include "cli/commands.h"
#include "cli/distributed_scan.h"
#include "cli/option_groups.h"
#include "cli/patching_pairs_args.h"
#include "core/base/error.h"
#include "core/store/analysis_writer.h"
#include "hooks/activation_recorder.h"

namespace headscope::cli {
namespace {

// Components printed and listed in --json, best first.
constexpr size_t kTopShown = 10;

struct PatchArgs {
  ModelArgs model;
  PairsArgs pairs;
  OutputArgs out;
  PatchingOptions options;
  bool json = false, quiet = false;
};

std::string site_label(const PatchGrid& grid, size_t index) {
  const PatchSite& s = grid.sites[index];
  std::string label = "L" + std::to_string(s.layer);
  if (s.head >= 0) label += (grid.dims[1] == "kv_head" ? " kv" : " H") + std::to_string(s.head);
  if (s.position >= 0) label += " pos " + std::to_string(s.position);
  return label;
}

// Indices of the components by decreasing effect: |score| when denoising (how much the patch
// restores), |1 - score| when noising (how much it destroys).
std::vector<size_t> ranked(const PatchingResult& r, PatchDirection direction) {
  const double untouched = direction == PatchDirection::kNoise ? 1.0 : 0.0;
  std::vector<size_t> order(r.scores.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&r, untouched](size_t a, size_t b) {
    return std::abs(r.scores[a] - untouched) > std::abs(r.scores[b] - untouched);
  });
  order.resize(std::min(order.size(), kTopShown));
  return order;
}

void print_text(const PatchingResult& r, const PatchingOptions& o, const std::string& about) {
  std::printf("%s; activation patching of hook_%s per %s, %s, metric %s\n", about.c_str(),
              patch_hook_name(o.hook), patch_granularity_name(o.per),
              patch_direction_name(o.direction), patching_metric_name(o.metric));
  std::printf(
      "clean %.4f, corrupted %.4f (mean %s over %zu pairs); %lld forward passes of up "
      "to %lld rows, %.2f s\n",
      r.clean_mean, r.corrupted_mean, patching_metric_name(o.metric), r.clean_metric.size(),
      static_cast<long long>(r.forward_passes), static_cast<long long>(r.batch_size), r.seconds);
  if (r.grid.dims.size() == 2) {
    std::printf("normalised score (1 = %s)\nlayer", o.direction == PatchDirection::kDenoise
                                                        ? "restores the clean metric"
                                                        : "keeps the clean metric");
    for (int64_t h = 0; h < r.grid.shape[1]; ++h) std::printf(" %7lld", static_cast<long long>(h));
    std::printf("\n");
    for (int64_t l = 0; l < r.grid.shape[0]; ++l) {
      std::printf("%5lld", static_cast<long long>(l));
      for (int64_t h = 0; h < r.grid.shape[1]; ++h) {
        std::printf(" %7.3f", r.scores[static_cast<size_t>(l * r.grid.shape[1] + h)]);
      }
      std::printf("\n");
    }
  }
  std::printf("largest effects (%s):\n",
              o.direction == PatchDirection::kNoise ? "|1 - score|" : "|score|");
  for (const size_t i : ranked(r, o.direction))
    std::printf("  %-22s %8.4f\n", site_label(r.grid, i).c_str(), r.scores[i]);
}

nlohmann::ordered_json result_json(const PatchingResult& r, const PatchingOptions& o,
                                   const PatchingSource& source) {
  nlohmann::ordered_json top = nlohmann::ordered_json::array();
  for (const size_t i : ranked(r, o.direction)) {
    const PatchSite& s = r.grid.sites[i];
    nlohmann::ordered_json entry{{"layer", s.layer}};
    if (s.head >= 0) entry[r.grid.dims[1]] = s.head;
    if (s.position >= 0) entry["position"] = s.position;
    entry["score"] = r.scores[i];
    top.push_back(entry);
  }
  nlohmann::ordered_json j{{"hook", patch_hook_name(o.hook)},
                           {"per", patch_granularity_name(o.per)},
                           {"direction", patch_direction_name(o.direction)},
                           {"metric", patching_metric_name(o.metric)}};
  add_pairs_json(j, source, r);
  j["dims"] = r.grid.dims;
  j["shape"] = r.grid.shape;
  j["scores"] = r.scores;
  j["top"] = top;
  j["batch_size"] = r.batch_size;
  j["forward_passes"] = r.forward_passes;
  j["seconds"] = r.seconds;
  return j;
}

void run(const PatchArgs& args) {
  check_pairs_args(args.pairs, "patch");
  const PatchingOptions options = PatchingOptions(args.options).with_quiet(args.quiet || args.json);
  const OutputMode mode = output_mode(args.out, OutputKind::kAnalysisFile);
  DistributedScan scan;
  const auto model = load_model(scan.rank_model(args.model));
  const ModelConfig& config = model->config();
  // Refused before reading pairs: --per head of a hook without heads.
  patch_grid(config, options.hook, options.per, 1);

  PatchingSource source;
  const std::vector<PatchingPair> pairs = load_pairs(args.pairs, args.model, config, source);
  const ModelSummary summary = summarize(*model);
  if (!args.out.path.empty()) check_analysis_target(args.out.path, summary, mode);

  HookedModel hooked(model);
  // Under a launch each rank runs its share of the sweep; every rank ends with the result.
  const PatchingResult result = activation_patching(hooked, pairs, options, scan.work_split());
  if (!scan.root()) return;
  if (!args.out.path.empty()) {
    write_activation_patching({args.out.path, summary, mode}, result, options, pairs, source,
                              {args.model.device, args.model.dtype});
  }
  if (args.json) {
    std::cout << result_json(result, options, source).dump() << "\n";
    return;
  }
  const std::string about = pairs_about(source, pairs.size());
  print_text(result, options, about);
  if (!args.out.path.empty()) {
    std::cout << "wrote /analyses/" << kActivationPatchingCollection << "/"
              << patch_hook_name(options.hook) << " to " << args.out.path << "\n";
  }
}

}  // namespace

void add_patch_command(CLI::App& app) {
  auto args = std::make_shared<PatchArgs>();
  auto* cmd = app.add_subcommand(
      "patch",
      "Activation patching: how much each layer, head or position restores (or breaks) "
      "the clean answer");
  add_model_options(*cmd, args->model, pairs_model_options());
  add_pairs_options(*cmd, args->pairs);
  add_choice_option(*cmd, "--hook", args->options.hook, choices_named(kPatchHooks, patch_hook_name),
                    "Hook point patched (docs/CIRCUITS.md)");
  add_choice_option(*cmd, "--per", args->options.per,
                    choices_named(kPatchGranularities, patch_granularity_name),
                    "Components patched one at a time");
  add_choice_option(*cmd, "--direction", args->options.direction,
                    choices_named(kPatchDirections, patch_direction_name),
                    "denoise: corrupted run, clean activation in; noise: the reverse");
  add_choice_option(*cmd, "--metric", args->options.metric,
                    choices_named(kPatchingMetrics, patching_metric_name),
                    "logit-diff (answer - distractor), prob, logprob (of the answer) or kl");
  cmd->add_option("--batch", args->options.batch_size,
                  "Patched runs per forward pass [default: as many as a quarter of free memory "
                  "holds, at most 512, and on the CPU at most 1024 tokens]")
      ->check(integer_in(1, kMaxBatch));
  add_output_options(*cmd, args->out, OutputKind::kAnalysisFile,
                     "HDF5 file to write /analyses/activation_patching/<hook> into", false);
  add_json_flag(*cmd, args->json);
  add_quiet_flag(*cmd, args->quiet);
  cmd->callback([args, cmd] {
    note_sample_options(*cmd, args->pairs);
    run(*args);
  });
}

}  // namespace headscope::cli
