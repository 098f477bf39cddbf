// headscope ablate MODEL --task T (--heads 3.1,5.7 | --from FILE.h5 --top K |
//   --random K [--from FILE.h5 --exclude-top N] [--head-seed S]) [--method
//   zero|mean|uniform|neg-inf]
//   [--seed S] [--n N] [--length L] [--device D] [--out FILE.h5 [--append|--force]] [--json]
#include <algorithm>
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "analyses/ablation/ablation_output.h"
#include "analyses/ablation/evaluation_samples.h"
#include "analyses/ablation/head_selection.h"
#include "analyses/retrieval/retrieval_file.h"
#include "analyses/tasks/generate_task.h"
#include "analyses/tasks/score_shards.h"
#include "cli/choice_option.h"
#include "cli/cli_args.h"
#include "cli/commands.h"
#include "cli/distributed_scan.h"
#include "cli/option_groups.h"
#include "core/base/error.h"
#include "core/store/analysis_writer.h"
#include "hooks/activation_recorder.h"

namespace headscope::cli {
namespace {

struct AblateArgs {
  ModelArgs model;
  SampleArgs samples;
  OutputArgs out;
  std::string heads, from, dataset = kRetrievalScoreDataset;
  HeadInterventionKind method = HeadInterventionKind::kZero;
  int64_t top = 0, random = 0, exclude_top = 0;
  uint64_t head_seed = 0;
  bool head_seed_given = false;
  bool json = false, quiet = false;
};

// Resolves the one selection rule the arguments name into heads.
std::vector<HeadRef> select_heads(const AblateArgs& args, const ModelConfig& config,
                                  HeadSelection& selection) {
  const int rules =
      (args.heads.empty() ? 0 : 1) + (args.top > 0 ? 1 : 0) + (args.random > 0 ? 1 : 0);
  if (rules != 1) {
    throw InvalidInput("ablate: give exactly one of --heads, --top K (with --from) or --random K");
  }
  if (args.exclude_top > 0 && args.random == 0) {
    throw InvalidInput("--exclude-top: only with --random");
  }
  if (!args.heads.empty()) {
    if (!args.from.empty()) throw InvalidInput("--from: not used with --heads");
    return parse_heads(args.heads, config, "--heads");
  }
  const int64_t total = config.n_layers * config.n_heads;
  const int64_t k = std::max(args.top, args.random);
  if (k > total) {
    throw InvalidInput(std::string(args.top > 0 ? "--top" : "--random") +
                       ": K = " + std::to_string(k) + " is more than the model's " +
                       std::to_string(total) + " heads");
  }
  selection.k = k;
  selection.from = args.from;
  selection.dataset = args.from.empty() ? "" : args.dataset;
  if (args.top > 0) {
    if (args.from.empty()) throw InvalidInput("--top: needs --from FILE.h5 with per-head scores");
    selection.rule = "top";
    return top_heads(read_head_scores(args.from, args.dataset, config), k);
  }
  selection.rule = "random";
  selection.exclude_top = args.exclude_top;
  selection.seed = args.head_seed_given ? args.head_seed : args.samples.seed;
  std::vector<HeadRef> excluded;
  if (args.exclude_top > 0) {
    if (args.from.empty()) {
      throw InvalidInput("--exclude-top: needs --from FILE.h5 with per-head scores");
    }
    if (args.exclude_top > total) {
      throw InvalidInput("--exclude-top: N = " + std::to_string(args.exclude_top) +
                         " is more than the model's " + std::to_string(total) + " heads");
    }
    excluded = top_heads(read_head_scores(args.from, args.dataset, config), args.exclude_top);
  } else if (!args.from.empty()) {
    throw InvalidInput("--from: --random reads it only with --exclude-top");
  }
  return random_heads(config, k, selection.seed, excluded);
}

nlohmann::ordered_json score_json(const TaskScore& s) {
  nlohmann::ordered_json j{{"accuracy", s.accuracy},
                           {"token_accuracy", s.token_accuracy},
                           {"answer_loss", s.answer_loss}};
  if (s.mean_logit_diff) {
    j["mean_logit_diff"] = *s.mean_logit_diff;
    j["fraction_positive"] = *s.fraction_positive;
  }
  return j;
}

void print_text(const AblationResult& r, const AblationOptions& o) {
  std::printf("%s, n=%lld, length %lld, seed %llu; %s ablation of %zu heads: %s\n", o.task.c_str(),
              static_cast<long long>(o.samples), static_cast<long long>(o.length),
              static_cast<unsigned long long>(o.seed), intervention_name(o.method), r.heads.size(),
              format_heads(r.heads).c_str());
  std::printf("%-20s %10s %10s\n", "", "baseline", "ablated");
  std::printf("%-20s %10.3f %10.3f\n", "accuracy", r.baseline.accuracy, r.ablated.accuracy);
  std::printf("%-20s %10.3f %10.3f\n", "answer tokens", r.baseline.token_accuracy,
              r.ablated.token_accuracy);
  std::printf("%-20s %10.3f %10.3f\n", "answer loss (nats)", r.baseline.answer_loss,
              r.ablated.answer_loss);
  if (r.baseline.mean_logit_diff) {
    std::printf("%-20s %10.3f %10.3f\n", "logit difference", *r.baseline.mean_logit_diff,
                *r.ablated.mean_logit_diff);
    std::printf("%-20s %10.3f %10.3f\n", "  fraction > 0", *r.baseline.fraction_positive,
                *r.ablated.fraction_positive);
  }
}

// Under torchrun or mpirun each rank scores its share of the batches (baseline and ablated);
// rank 0 puts every sample's values back in order and scores them as one process does.
AblationResult ablate_distributed(DistributedScan& scan,
                                  const std::shared_ptr<const Transformer>& model,
                                  const std::vector<HeadRef>& heads, AblationOptions options) {
  const int64_t n = options.samples;
  const std::vector<int64_t> mine =
      batch_samples(scan.share(batch_costs(n, options.batch_size)), options.batch_size, n);
  options.only_samples = mine;
  const std::vector<std::string> parts = scan.gather([&] {
    ByteWriter out;
    out.put_vector(mine);
    if (!mine.empty()) {
      const AblationResult share = ablate_heads(model, heads, options);
      put_sample_scores(out, share.baseline);
      put_sample_scores(out, share.ablated);
    }
    return out.bytes();
  });
  AblationResult result;
  if (!scan.root()) return result;
  ScoreAssembler baseline(n);
  ScoreAssembler ablated(n);
  for (size_t rank = 0; rank < parts.size(); ++rank) {
    ByteReader in(parts[rank], "ablation scores of rank " + std::to_string(rank));
    const auto indices = in.get_vector<int64_t>();
    if (indices.empty()) continue;
    baseline.read(in, indices);
    ablated.read(in, indices);
  }
  result.heads = heads;
  result.samples =
      evaluation_samples(model->config(), options.task, n, options.length, options.seed);
  result.baseline = baseline.result(options.task, result.samples);
  result.ablated = ablated.result(options.task, result.samples);
  return result;
}

void run(const AblateArgs& args) {
  const OutputMode mode = output_mode(args.out, OutputKind::kAnalysisFile);
  check_task_name(args.samples.task);
  const HeadInterventionKind method = args.method;
  DistributedScan scan;
  const auto model = load_model(scan.rank_model(args.model));
  const ModelConfig& config = model->config();
  HeadSelection selection;
  const std::vector<HeadRef> heads = select_heads(args, config, selection);
  const ModelSummary summary = summarize(*model);
  if (!args.out.path.empty()) check_analysis_target(args.out.path, summary, mode);

  const AblationOptions options =
      AblationOptions()
          .with_task(args.samples.task)
          .with_method(method)
          .with_samples(args.samples.n)
          .with_length(sample_length(args.samples, config))
          .with_seed(args.samples.seed)
          .with_batch_size(args.samples.batch)
          .with_quiet(args.quiet);
  const AblationResult result = scan.distributed()
                                   ? ablate_distributed(scan, model, heads, options)
                                   : ablate_heads(model, heads, options);
  if (!scan.root()) return;
  if (!args.out.path.empty()) {
    write_ablation({args.out.path, summary, mode}, result, options, selection);
  }

  if (args.json) {
    std::vector<std::string> names;
    for (const HeadRef& h : heads) names.push_back(format_heads({h}));
    nlohmann::ordered_json j{{"task", options.task},
                             {"method", intervention_name(method)},
                             {"selection", selection.rule},
                             {"heads", names},
                             {"samples", options.samples},
                             {"length", options.length},
                             {"seed", options.seed},
                             {"baseline", score_json(result.baseline)},
                             {"ablated", score_json(result.ablated)}};
    if (selection.rule == "random") j["head_seed"] = selection.seed;
    std::cout << j.dump() << "\n";
    return;
  }
  print_text(result, options);
  if (!args.out.path.empty())
    std::cout << "wrote /analyses/" << kAblationGroup << " to " << args.out.path << "\n";
}

}  // namespace

void add_ablate_command(CLI::App& app) {
  auto args = std::make_shared<AblateArgs>();
  auto* cmd = app.add_subcommand(
      "ablate", "Task accuracy and logit difference with and without heads ablated");
  ModelOptionSet model;
  model.help = "Model directory (a zoo model: the tasks use its vocabulary)";
  model.default_dtype = "f32";
  add_model_options(*cmd, args->model, model);
  add_sample_options(*cmd, args->samples);
  cmd->add_option("--heads", args->heads, "Heads to ablate, LAYER.HEAD comma-separated (3.1,5.7)");
  cmd->add_option("--from", args->from, "HDF5 file with per-head scores (headscope retrieval)");
  cmd->add_option("--dataset", args->dataset, "Score dataset in --from [layer, head]");
  cmd->add_option("--top", args->top, "Ablate the K highest-scoring heads of --from")
      ->check(integer_in(1, kMaxCount));
  cmd->add_option("--random", args->random, "Ablate K random heads")
      ->check(integer_in(1, kMaxCount));
  cmd->add_option("--exclude-top", args->exclude_top,
                  "--random: never draw the top N heads of --from")
      ->check(integer_in(1, kMaxCount));
  add_choice_option(*cmd, "--method", args->method,
                    choices_named(kAblationMethods, intervention_name),
                    "How a head is ablated (docs/ABLATION.md)");
  auto* head_seed = cmd->add_option("--head-seed", args->head_seed,
                                    "Seed of the --random draw (other heads, same samples) "
                                    "[default: --seed]")
                        ->check(integer_in(0, kMaxSeed));
  add_output_options(*cmd, args->out, OutputKind::kAnalysisFile,
                     "HDF5 file to write /analyses/ablation into", false);
  add_json_flag(*cmd, args->json);
  add_quiet_flag(*cmd, args->quiet);
  cmd->callback([args, head_seed] {
    args->head_seed_given = head_seed->count() > 0;
    run(*args);
  });
}

}  // namespace headscope::cli
