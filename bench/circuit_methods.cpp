// The IOI vs colored-objects comparison of docs/CIRCUITS.md ("IOI vs colored objects in our
// model"): on one model and the same pairs per task, the circuits that activation patching
// (hook_z, denoise), path patching (iterative from the logits), EAP and EAP-IG find, and
//   - per method: the IOI circuit's overlap with the colors circuit against chance;
//   - per task and method: the rank agreement of the per-head |scores| with activation
//     patching's, and the faithfulness of the circuit and of the top k heads by |score| for
//     k = 0, 1, 2, 4, 8, 16, 24, all, every one measured the same way
//     (analyses/circuits/head_circuit_faithfulness.h, patch ablation).
// Circuits: the top --top-k heads by |score| (activation patching, EAP, EAP-IG) or the heads
// the iterative path-patching search selects (--top-fraction per stage).
//   circuit_methods [--model DIR] [--tasks ioi,colors] [--n N] [--length L] [--seed S]
//                   [--top-k K] [--top-fraction F] [--steps S] [--threads N]
// One JSON object on stdout; scripts/circuit_methods_report.py turns it into the docs' table
// and the faithfulness figure.
#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "analyses/circuits/activation_patching.h"
#include "analyses/circuits/circuit_overlap.h"
#include "analyses/circuits/head_circuit_faithfulness.h"
#include "analyses/circuits/path_patching.h"
#include "analyses/circuits/rank_correlation.h"
#include "analyses/circuits/task_pairs.h"
#include "bench/bench_main.h"
#include "cli/cli_args.h"
#include "core/model/transformer.h"

namespace headscope {
namespace {

struct Args {
  std::string model = "zoo/models/needle-4x8";
  std::vector<std::string> tasks = {"ioi", "colors"};
  int64_t n = 64, length = 64, top_k = 8, steps = 5, threads = 0;
  uint64_t seed = 0;
  double top_fraction = 0.125;
};

const std::vector<int64_t> kCurveHeads = {0, 1, 2, 4, 8, 16, 24};

std::vector<double> magnitudes(const std::vector<double>& v) {
  std::vector<double> out;
  for (const double x : v) out.push_back(std::fabs(x));
  return out;
}

// A json number, or null for NaN (JSON has no NaN).
nlohmann::ordered_json number(double v) {
  return std::isnan(v) ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(v);
}

struct MethodRun {
  std::string method;
  Circuit circuit;
  double clean_mean = 0.0, corrupted_mean = 0.0, seconds = 0.0;
};

Circuit scored_circuit(const ModelConfig& c, const std::string& method, const std::string& task,
                       std::vector<double> scores) {
  Circuit circuit;
  circuit.n_layers = c.n_layers;
  circuit.n_heads = c.n_heads;
  circuit.scores = std::move(scores);
  circuit.method = method;
  circuit.task = task;
  return circuit;
}

Circuit top_circuit(const ModelConfig& c, const std::string& method, const std::string& task,
                    std::vector<double> scores, int64_t k) {
  Circuit circuit = scored_circuit(c, method, task, std::move(scores));
  circuit.selection = CircuitSelection::top(k, true);
  circuit.selected = select_heads(circuit.scores, circuit.selection, method);
  return circuit;
}

std::vector<MethodRun> find_circuits(HookedModel& model, const EapGraph& graph,
                                     const std::vector<PatchingPair>& pairs,
                                     const std::string& task, const Args& a) {
  const ModelConfig& c = model.model().config();
  std::vector<MethodRun> runs;
  const PatchingResult patching =
      activation_patching(model, pairs, PatchingOptions().with_quiet(true));
  runs.push_back({"activation patching",
                  top_circuit(c, "activation_patching/z", task, patching.scores, a.top_k),
                  patching.clean_mean, patching.corrupted_mean, patching.seconds});

  PathCircuitOptions path_options =
      PathCircuitOptions().with_top_fraction(a.top_fraction).with_iterative(true);
  path_options.patching.quiet = true;
  const PathCircuit path = path_circuit(
      model, pairs, parse_path_receivers("logits", c, kAllReceiverInputs), path_options);
  MethodRun path_run{"path patching",
                     {},
                     path.stages.front().result.clean_mean,
                     path.stages.front().result.corrupted_mean,
                     path.seconds};
  path_run.circuit = scored_circuit(c, "path_patching", task, path.head_scores());
  path_run.circuit.selection.rule = "iterative top_fraction";
  for (const int64_t stage : path.stage_of_head)
    path_run.circuit.selected.push_back(stage >= 0 ? 1 : 0);
  runs.push_back(path_run);

  for (const EapMethod method : kEapMethods) {
    const EapResult r = edge_attribution(
        model, graph, pairs,
        EapOptions().with_method(method).with_steps(a.steps).with_faithfulness(false).with_quiet(
            true));
    runs.push_back({method == EapMethod::kEap ? "EAP" : "EAP-IG",
                    top_circuit(c, eap_method_name(method), task, head_scores(graph, r), a.top_k),
                    r.clean_mean, r.corrupted_mean, r.seconds});
  }
  return runs;
}

nlohmann::ordered_json task_json(HookedModel& model, const EapGraph& graph,
                                 const std::vector<PatchingPair>& pairs,
                                 const std::vector<MethodRun>& runs) {
  const EapOptions faith = EapOptions().with_quiet(true);
  const MethodRun& reference = runs.front();
  nlohmann::ordered_json methods = nlohmann::ordered_json::array();
  for (const MethodRun& run : runs) {
    const Circuit& circuit = run.circuit;
    const Correlation rho =
        spearman(magnitudes(circuit.scores), magnitudes(reference.circuit.scores));
    nlohmann::ordered_json curve = nlohmann::ordered_json::array();
    std::vector<int64_t> counts;
    for (const int64_t k : kCurveHeads)
      if (k < circuit.head_count()) counts.push_back(k);
    counts.push_back(circuit.head_count());
    for (const int64_t k : counts) {
      std::vector<uint8_t> selected(static_cast<size_t>(circuit.head_count()), 0);
      if (k > 0)
        selected = select_heads(circuit.scores, CircuitSelection::top(k, true), run.method);
      curve.push_back({{"heads", k},
                       {"faithfulness",
                        head_circuit_faithfulness(model, graph, pairs, selected, faith,
                                                  reference.clean_mean, reference.corrupted_mean)
                            .faithfulness}});
    }
    std::vector<std::string> heads;
    for (int64_t i = 0; i < circuit.head_count(); ++i) {
      if (circuit.selected[static_cast<size_t>(i)] != 0)
        heads.push_back(std::to_string(i / circuit.n_heads) + "." +
                        std::to_string(i % circuit.n_heads));
    }
    nlohmann::ordered_json scores = nlohmann::ordered_json::array();
    for (const double s : circuit.scores) scores.push_back(number(s));
    methods.push_back({{"method", run.method},
                       {"clean_mean", run.clean_mean},
                       {"corrupted_mean", run.corrupted_mean},
                       {"seconds", run.seconds},
                       {"circuit", heads},
                       {"circuit_faithfulness",
                        head_circuit_faithfulness(model, graph, pairs, circuit.selected, faith,
                                                  reference.clean_mean, reference.corrupted_mean)
                            .faithfulness},
                       {"spearman_abs_vs_activation_patching", number(rho.value)},
                       {"spearman_p", number(rho.p_value)},
                       {"faithfulness_top_k", curve},
                       {"scores", scores}});
  }
  return methods;
}

int run(const Args& a) {
  if (a.threads > 0) torch::set_num_threads(static_cast<int>(a.threads));
  const auto model = Transformer::load(a.model, ModelLoadOptions().with_dtype(torch::kFloat32));
  const ModelConfig& c = model->config();
  HookedModel hooked(model);
  const EapGraph graph(c);
  nlohmann::ordered_json out{{"model", a.model},    {"layers", c.n_layers},
                             {"heads", c.n_heads},  {"pairs", a.n},
                             {"seed", a.seed},      {"top_k", a.top_k},
                             {"steps", a.steps},    {"top_fraction", a.top_fraction},
                             {"ablation", "patch"}, {"threads", torch::get_num_threads()}};
  std::vector<std::vector<MethodRun>> per_task;
  for (const std::string& task : a.tasks) {
    const auto pairs = task_pairs(c, task, a.n, a.length, a.seed);
    per_task.push_back(find_circuits(hooked, graph, pairs, task, a));
    out["tasks"][task] = task_json(hooked, graph, pairs, per_task.back());
  }
  nlohmann::ordered_json overlaps = nlohmann::ordered_json::array();
  for (size_t i = 0; i < per_task.front().size(); ++i) {
    const CircuitOverlap o =
        circuit_overlap(per_task[0][i].circuit, per_task[1][i].circuit, OverlapOptions());
    overlaps.push_back({{"method", per_task[0][i].method},
                        {"size_a", o.size_a},
                        {"size_b", o.size_b},
                        {"intersection", o.intersection},
                        {"union", o.union_size},
                        {"jaccard", number(o.jaccard)},
                        {"expected_intersection", o.expected_intersection},
                        {"hypergeometric_p", o.hypergeometric_p},
                        {"permutation_p", number(o.permutation_p)},
                        {"spearman_between_tasks", number(o.spearman.value)},
                        {"spearman_p", number(o.spearman.p_value)}});
  }
  out["overlap"] = overlaps;
  std::cout << out.dump(1) << "\n";
  return 0;
}

}  // namespace
}  // namespace headscope

int main(int argc, char** argv) {
  using headscope::cli::integer_in;
  headscope::Args args;
  CLI::App app{"Circuits of two tasks by activation patching, path patching, EAP and EAP-IG",
               "circuit_methods"};
  app.add_option("--model", args.model, "Zoo model directory")->capture_default_str();
  app.add_option("--tasks", args.tasks, "The two tasks compared")
      ->delimiter(',')
      ->expected(2)
      ->capture_default_str();
  app.add_option("--n", args.n, "Pairs per task")
      ->check(integer_in(1, 100000))
      ->capture_default_str();
  app.add_option("--length", args.length, "Tokens per sample (niah, induction)")
      ->check(integer_in(2, headscope::cli::kMaxTokens))
      ->capture_default_str();
  app.add_option("--seed", args.seed, "Seed of the pairs")->capture_default_str();
  app.add_option("--top-k", args.top_k, "Heads per circuit (all methods but path patching)")
      ->check(integer_in(1, 100000))
      ->capture_default_str();
  app.add_option("--top-fraction", args.top_fraction, "Path patching: senders kept per stage")
      ->check(headscope::cli::number_in(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--steps", args.steps, "EAP-IG's interpolation steps")
      ->check(integer_in(1, 1000))
      ->capture_default_str();
  app.add_option("--threads", args.threads, "LibTorch intra-op threads [default: LibTorch's]")
      ->check(integer_in(1, 1024));
  return headscope::bench::bench_main(app, argc, argv, [&] { return headscope::run(args); });
}
