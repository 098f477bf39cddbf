// headscope path-patch MODEL (--task T [--n N] [--length L] [--seed S] | --dataset FILE.jsonl)
//   [--receivers logits|L.H[:q|k|v],...] [--receiver-inputs q,k,v] [--iterative]
//   [--threshold X | --top-fraction F] [--edge-fraction E] [--metric logit-diff|prob|logprob|kl]
//   [--name NAME]
//   [--batch B] [--device D] [--dtype T] [--out FILE.h5 [--append|--force]] [--json] [--quiet]
#include <cmath>
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "analyses/circuits/path_patching.h"
#include "analyses/circuits/path_patching_output.h"
#include "cli/choice_option.h"
#include "cli/cli_args.h"
#include "cli/commands.h"
#include "cli/distributed_scan.h"
#include "cli/option_groups.h"
#include "cli/patching_pairs_args.h"
#include "core/base/error.h"
#include "core/store/circuit_schema.h"
#include "core/store/recording_schema.h"
#include "hooks/activation_recorder.h"

namespace headscope::cli {
namespace {

struct PathPatchArgs {
  ModelArgs model;
  PairsArgs pairs;
  OutputArgs out;
  std::string receivers = "logits";
  std::vector<std::string> inputs = {"q", "k", "v"};
  std::string name;
  PathCircuitOptions options;
  bool json = false, quiet = false;
};

std::vector<ReceiverInput> receiver_inputs(const std::vector<std::string>& words) {
  std::vector<ReceiverInput> inputs;
  for (const ReceiverInput input : kAllReceiverInputs) {
    for (const std::string& word : words) {
      if (word == receiver_input_name(input)) {
        inputs.push_back(input);
        break;
      }
    }
  }
  return inputs;
}

std::string selection_text(const PathCircuitOptions& o) {
  char text[64];
  if (o.top_fraction > 0.0) {
    std::snprintf(text, sizeof text, "top %.3g of each stage's senders by |score|", o.top_fraction);
  } else {
    std::snprintf(text, sizeof text, "|score| >= %.3g", o.threshold);
  }
  return text;
}

std::string head_label(const HeadIndex& h) {
  return "L" + std::to_string(h.layer) + " H" + std::to_string(h.head);
}

void print_text(const PathCircuit& c, const PathCircuitOptions& o, const std::string& about) {
  const PathPatchingResult& first = c.stages.front().result;
  std::printf("%s; path patching%s, metric %s, selection %s\n", about.c_str(),
              o.iterative ? " (iterative)" : "", patching_metric_name(o.patching.metric),
              selection_text(o).c_str());
  std::printf(
      "clean %.4f, corrupted %.4f (mean %s over %zu pairs); %lld forward passes of up to %lld "
      "rows, %.2f s\n",
      first.clean_mean, first.corrupted_mean, patching_metric_name(o.patching.metric),
      first.clean_metric.size(), static_cast<long long>(c.forward_passes),
      static_cast<long long>(first.batch_size), c.seconds);
  std::printf(
      "score = (patched - clean) / (clean - corrupted): -1 = the path carries the whole "
      "gap\n");
  for (size_t s = 0; s < c.stages.size(); ++s) {
    const PathStage& stage = c.stages[s];
    std::printf("stage %zu: receivers %s\nlayer", s, receivers_text(stage.receivers).c_str());
    for (int64_t h = 0; h < c.n_heads; ++h) std::printf(" %7lld", static_cast<long long>(h));
    std::printf("\n");
    for (int64_t l = 0; l < c.n_layers; ++l) {
      std::printf("%5lld", static_cast<long long>(l));
      for (int64_t h = 0; h < c.n_heads; ++h) {
        const double score = stage.result.scores[static_cast<size_t>(l * c.n_heads + h)];
        if (std::isnan(score)) {
          std::printf("       -");
        } else {
          std::printf(" %7.3f", score);
        }
      }
      std::printf("\n");
    }
    std::printf("  selected:");
    for (const HeadIndex& h : stage.selected) std::printf(" %s", head_label(h).c_str());
    std::printf("%s (|score| >= %.4g)\n", stage.selected.empty() ? " none" : "", stage.cut);
  }
  std::printf("edges:\n");
  for (const PathCircuitEdge& e : c.edges) {
    std::printf("  stage %lld  %-8s -> %-12s %8.4f\n", static_cast<long long>(e.stage),
                e.edge.sender.c_str(), e.edge.receiver.c_str(), e.edge.score);
  }
}

nlohmann::ordered_json result_json(const PathCircuit& c, const PathPatchArgs& args,
                                   const PatchingSource& source) {
  const PathCircuitOptions& o = args.options;
  const PathPatchingResult& first = c.stages.front().result;
  nlohmann::ordered_json j{{"receivers", args.receivers},
                           {"iterative", o.iterative},
                           {"metric", patching_metric_name(o.patching.metric)}};
  if (o.top_fraction > 0.0) {
    j["top_fraction"] = o.top_fraction;
  } else {
    j["threshold"] = o.threshold;
  }
  j["edge_fraction"] = o.edge_fraction;
  add_pairs_json(j, source, first);
  nlohmann::ordered_json stages = nlohmann::ordered_json::array();
  for (const PathStage& stage : c.stages) {
    nlohmann::ordered_json selected = nlohmann::ordered_json::array();
    for (const HeadIndex& h : stage.selected) {
      selected.push_back(
          {{"layer", h.layer},
           {"head", h.head},
           {"score", stage.result.scores[static_cast<size_t>(h.layer * c.n_heads + h.head)]}});
    }
    // NaN (not a sender) becomes null.
    stages.push_back({{"receivers", receivers_text(stage.receivers)},
                      {"cut", stage.cut},
                      {"scores", stage.result.scores},
                      {"selected", selected}});
  }
  j["stages"] = stages;
  nlohmann::ordered_json heads = nlohmann::ordered_json::array();
  for (int64_t i = 0; i < c.n_layers * c.n_heads; ++i) {
    const int64_t stage = c.stage_of_head[static_cast<size_t>(i)];
    if (stage >= 0)
      heads.push_back({{"layer", i / c.n_heads}, {"head", i % c.n_heads}, {"stage", stage}});
  }
  j["circuit"] = heads;
  nlohmann::ordered_json edges = nlohmann::ordered_json::array();
  for (const PathCircuitEdge& e : c.edges) {
    edges.push_back({{"sender", e.edge.sender},
                     {"receiver", e.edge.receiver},
                     {"score", e.edge.score},
                     {"stage", e.stage}});
  }
  j["edges"] = edges;
  j["batch_size"] = first.batch_size;
  j["forward_passes"] = c.forward_passes;
  j["seconds"] = c.seconds;
  return j;
}

void run(PathPatchArgs args) {
  check_pairs_args(args.pairs, "path-patch");
  if (args.name.empty() || args.name.find('/') != std::string::npos || args.name == "." ||
      args.name.rfind(kPartialRunPrefix, 0) == 0) {
    throw InvalidInput("--name: '" + args.name + "' is not one group name (no '/', not empty)");
  }
  PathCircuitOptions options = args.options;
  options.patching.with_quiet(args.quiet || args.json);
  options.inputs = receiver_inputs(args.inputs);
  const OutputMode mode = output_mode(args.out, OutputKind::kAnalysisFile);
  DistributedScan scan;
  const auto model = load_model(scan.rank_model(args.model));
  const ModelConfig& config = model->config();
  const PathReceivers receivers = parse_path_receivers(args.receivers, config, options.inputs);
  PatchingSource source;
  const std::vector<PatchingPair> pairs = load_pairs(args.pairs, args.model, config, source);
  const ModelSummary summary = summarize(*model);
  if (!args.out.path.empty()) check_analysis_target(args.out.path, summary, mode);

  HookedModel hooked(model);
  // Under a launch each rank runs its share of every stage; every rank ends with the circuit.
  const PathCircuit circuit = path_circuit(hooked, pairs, receivers, options, scan.work_split());
  if (!scan.root()) return;
  if (!args.out.path.empty()) {
    write_path_patching({args.out.path, summary, mode}, args.name, circuit, pairs,
                        {options, args.receivers, source, {args.model.device, args.model.dtype}});
  }
  if (args.json) {
    std::cout << result_json(circuit, args, source).dump() << "\n";
    return;
  }
  print_text(circuit, options, pairs_about(source, pairs.size()));
  if (!args.out.path.empty()) {
    std::cout << "wrote /analyses/" << kCircuitsCollection << "/" << args.name << " to "
              << args.out.path << "\n";
  }
}

}  // namespace

void add_path_patch_command(CLI::App& app) {
  auto args = std::make_shared<PathPatchArgs>();
  auto* cmd = app.add_subcommand(
      "path-patch",
      "Path patching: each head's effect through chosen receivers only (the logits, or heads' "
      "q/k/v); --iterative finds the circuit stage by stage back from the logits");
  add_model_options(*cmd, args->model, pairs_model_options());
  add_pairs_options(*cmd, args->pairs);
  cmd->add_option("--receivers", args->receivers,
                  "logits, or heads' inputs LAYER.HEAD[:q|k|v],... (a head without :x receives "
                  "on every --receiver-inputs)")
      ->capture_default_str();
  cmd->add_option("--receiver-inputs", args->inputs,
                  "Inputs of receiver heads given without :x, and of later stages' receivers")
      ->delimiter(',')
      ->check(one_of({"q", "k", "v"}))
      ->capture_default_str();
  cmd->add_flag("--iterative", args->options.iterative,
                "Stage by stage: each stage's selected heads become the next stage's receivers");
  auto* threshold = cmd->add_option("--threshold", args->options.threshold,
                                    "Select senders with |score| at least this")
                        ->check(number_in(0.0, 1e9))
                        ->capture_default_str();
  auto* fraction = cmd->add_option("--top-fraction", args->options.top_fraction,
                                   "Select this fraction of each stage's senders by |score| "
                                   "(at least one), instead of --threshold")
                       ->check(number_in(1e-9, 1.0));
  fraction->excludes(threshold);
  cmd->add_option("--edge-fraction", args->options.edge_fraction,
                  "Keep a selected sender's edge into one receiver input when its |score| is at "
                  "least this fraction of the sender's stage |score|")
      ->check(number_in(0.0, 1e9))
      ->capture_default_str();
  add_choice_option(*cmd, "--metric", args->options.patching.metric,
                    choices_named(kPatchingMetrics, patching_metric_name),
                    "logit-diff (answer - distractor), prob, logprob (of the answer) or kl");
  add_choice_option(*cmd, "--sender-positions", args->options.patching.sender_positions,
                    choices_named(kSenderPositions, sender_positions_name),
                    "Where the sender takes its corrupted output: all positions, or only the "
                    "scored (final) one");
  cmd->add_option("--name", args->name,
                  "Circuit name: /analyses/circuits/NAME [default: TASK_path_patching, or "
                  "path_patching for a --dataset]");
  cmd->add_option("--batch", args->options.patching.batch_size,
                  "Patched runs per forward pass [default: as for patch]")
      ->check(integer_in(1, kMaxBatch));
  add_output_options(*cmd, args->out, OutputKind::kAnalysisFile,
                     "HDF5 file to write /analyses/circuits/NAME into", false);
  add_json_flag(*cmd, args->json);
  add_quiet_flag(*cmd, args->quiet);
  cmd->callback([args, cmd] {
    note_sample_options(*cmd, args->pairs);
    PathPatchArgs given = *args;
    if (cmd->get_option("--name")->count() == 0) {
      given.name = given.pairs.samples.task.empty() ? "path_patching"
                                                    : given.pairs.samples.task + "_path_patching";
    }
    run(given);
  });
}

}  // namespace headscope::cli
