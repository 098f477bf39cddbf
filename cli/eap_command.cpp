// headscope eap MODEL (--task T [--n N] [--length L] [--seed S] | --dataset FILE.jsonl)
//   [--method eap|eap-ig] [--steps S] [--top-n N] [--ablation patch|mean|zero]
//   [--metric logit-diff|prob|logprob|kl] [--batch B] [--name NAME] [--device D] [--dtype T]
//   [--out FILE.h5 [--append|--force]] [--json] [--quiet]
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include <nlohmann/json.hpp>

#include "analyses/circuits/eap_output.h"
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

// Edges printed and listed in --json, best first.
constexpr int64_t kTopShown = 10;
// --top-n and --steps beyond any graph or integral a model of this tool runs.
constexpr int64_t kMaxTopN = int64_t{1} << 40;
constexpr int64_t kMaxSteps = 1000;

struct EapArgs {
  ModelArgs model;
  PairsArgs pairs;
  OutputArgs out;
  std::string name;
  EapOptions options;
  bool json = false, quiet = false;
};

std::string circuit_name(const EapArgs& args) {
  if (!args.name.empty()) return args.name;
  if (!args.pairs.samples.task.empty()) return args.pairs.samples.task;
  return std::filesystem::path(args.pairs.dataset).stem().string();
}

void print_text(const EapGraph& graph, const EapResult& r, const EapOptions& o,
                const Circuit& circuit, const std::string& about) {
  std::printf(
      "%s; %s over %lld edges (%lld senders, %lld receivers), metric %s%s\n", about.c_str(),
      eap_method_name(o.method), static_cast<long long>(graph.edge_count()),
      static_cast<long long>(graph.senders()), static_cast<long long>(graph.receivers()),
      patching_metric_name(o.metric),
      o.method == EapMethod::kEapIg ? (", " + std::to_string(o.steps) + " steps").c_str() : "");
  std::printf(
      "clean %.4f, corrupted %.4f (mean over %zu pairs); %lld forward and %lld backward "
      "passes of up to %lld rows, %.2f s\n",
      r.clean_mean, r.corrupted_mean, r.clean_metric.size(),
      static_cast<long long>(r.forward_passes), static_cast<long long>(r.backward_passes),
      static_cast<long long>(r.batch_size), r.seconds);
  std::printf("top edges (score: estimated change of the metric when the edge is corrupted):\n");
  for (int64_t i = 0; i < std::min<int64_t>(kTopShown, graph.edge_count()); ++i) {
    const CircuitEdge& e = circuit.edges[static_cast<size_t>(i)];
    std::printf("  %-10s -> %-12s %10.4f\n", e.sender.c_str(), e.receiver.c_str(), e.score);
  }
  std::printf("heads of the top %lld edges: %lld of %lld\n", static_cast<long long>(o.top_n),
              static_cast<long long>(circuit.selected_count()),
              static_cast<long long>(circuit.head_count()));
  if (!r.curve.empty()) {
    std::printf("faithfulness (%s ablation of the other edges):\n", eap_ablation_name(o.ablation));
    for (const FaithfulnessPoint& p : r.curve) {
      std::printf("  %8lld edges %8.4f\n", static_cast<long long>(p.edges), p.faithfulness);
    }
    std::printf("area under the curve (over the fraction of edges) %.4f\n", r.area);
  }
}

nlohmann::ordered_json result_json(const EapGraph& graph, const EapResult& r, const EapOptions& o,
                                   const Circuit& circuit, const PatchingSource& source,
                                   const std::string& name) {
  nlohmann::ordered_json j{{"name", name},
                           {"method", eap_method_name(o.method)},
                           {"steps", o.method == EapMethod::kEap ? int64_t{1} : o.steps},
                           {"metric", patching_metric_name(o.metric)},
                           {"ablation", eap_ablation_name(o.ablation)},
                           {"top_n", o.top_n}};
  add_pairs_json(j, source, r);
  j["edges"] = graph.edge_count();
  nlohmann::ordered_json top = nlohmann::ordered_json::array();
  for (int64_t i = 0; i < std::min<int64_t>(kTopShown, graph.edge_count()); ++i) {
    const CircuitEdge& e = circuit.edges[static_cast<size_t>(i)];
    top.push_back({{"sender", e.sender}, {"receiver", e.receiver}, {"score", e.score}});
  }
  j["top_edges"] = top;
  j["head_scores"] = circuit.scores;
  j["selected_heads"] = circuit.selected_count();
  nlohmann::ordered_json curve = nlohmann::ordered_json::array();
  for (const FaithfulnessPoint& p : r.curve) {
    curve.push_back({{"edges", p.edges}, {"metric", p.metric}, {"faithfulness", p.faithfulness}});
  }
  j["faithfulness"] = curve;
  j["faithfulness_area"] = r.area;
  j["batch_size"] = r.batch_size;
  j["forward_passes"] = r.forward_passes;
  j["backward_passes"] = r.backward_passes;
  j["seconds"] = r.seconds;
  return j;
}

void run(const EapArgs& args) {
  check_pairs_args(args.pairs, "eap");
  const EapOptions options = EapOptions(args.options).with_quiet(args.quiet || args.json);
  const std::string name = circuit_name(args);
  if (name.empty() || name.find('/') != std::string::npos) {
    throw InvalidInput("--name: expected a circuit name without '/', got '" + name + "'");
  }
  const OutputMode mode = output_mode(args.out, OutputKind::kAnalysisFile);
  DistributedScan scan;
  const auto model = load_model(scan.rank_model(args.model));
  const ModelConfig& config = model->config();
  const EapGraph graph(config);
  if (options.top_n > graph.edge_count()) {
    throw InvalidInput("--top-n: the graph of this model has " +
                       std::to_string(graph.edge_count()) + " edges, got " +
                       std::to_string(options.top_n));
  }

  PatchingSource source;
  const std::vector<PatchingPair> pairs = load_pairs(args.pairs, args.model, config, source);
  const ModelSummary summary = summarize(*model);
  if (!args.out.path.empty()) check_analysis_target(args.out.path, summary, mode);

  HookedModel hooked(model);
  // Under a launch each rank runs its share of the batches; every rank ends with the result.
  const EapResult result = edge_attribution(hooked, graph, pairs, options, scan.work_split());
  if (!scan.root()) return;
  const Circuit circuit =
      eap_circuit(graph, result, options, source.task.empty() ? source.dataset : source.task);
  if (!args.out.path.empty()) {
    write_eap_circuit({args.out.path, summary, mode}, name, graph, result, options, source,
                      {args.model.device, args.model.dtype});
  }
  if (args.json) {
    std::cout << result_json(graph, result, options, circuit, source, name).dump() << "\n";
    return;
  }
  print_text(graph, result, options, circuit, pairs_about(source, pairs.size()));
  if (!args.out.path.empty()) {
    std::cout << "wrote /analyses/circuits/" << name << " to " << args.out.path << "\n";
  }
}

}  // namespace

void add_eap_command(CLI::App& app) {
  auto args = std::make_shared<EapArgs>();
  auto* cmd = app.add_subcommand(
      "eap",
      "Edge attribution patching (EAP, EAP-IG): score every edge between the input, heads, MLPs "
      "and logits, keep the top n as a circuit, and measure its faithfulness");
  add_model_options(*cmd, args->model, pairs_model_options());
  add_pairs_options(*cmd, args->pairs);
  add_choice_option(*cmd, "--method", args->options.method,
                    choices_named(kEapMethods, eap_method_name),
                    "eap: gradient at the clean run; eap-ig: averaged over interpolated inputs");
  cmd->add_option("--steps", args->options.steps, "EAP-IG's interpolation steps")
      ->capture_default_str()
      ->check(integer_in(1, kMaxSteps));
  cmd->add_option("--top-n", args->options.top_n, "Edges kept in the circuit")
      ->capture_default_str()
      ->check(integer_in(1, kMaxTopN));
  add_choice_option(*cmd, "--ablation", args->options.ablation,
                    choices_named(kEapAblations, eap_ablation_name),
                    "What a removed edge carries in the faithfulness runs: the corrupted "
                    "activation (patch), the mean over the clean prompts, or zero");
  add_choice_option(*cmd, "--metric", args->options.metric,
                    choices_named(kPatchingMetrics, patching_metric_name),
                    "logit-diff (answer - distractor), prob, logprob (of the answer) or kl");
  cmd->add_option("--batch", args->options.batch_size,
                  "Pairs per forward pass [default: what a quarter of free memory holds, at "
                  "most 256]")
      ->check(integer_in(1, kMaxBatch));
  cmd->add_option("--name", args->name,
                  "Circuit name: /analyses/circuits/NAME [default: the task, or the dataset's "
                  "file stem]");
  add_output_options(*cmd, args->out, OutputKind::kAnalysisFile,
                     "HDF5 file to write /analyses/circuits/NAME into", false);
  add_json_flag(*cmd, args->json);
  add_quiet_flag(*cmd, args->quiet);
  cmd->callback([args, cmd] {
    note_sample_options(*cmd, args->pairs);
    run(*args);
  });
}

}  // namespace headscope::cli
