#include "analyses/circuits/path_patching_output.h"

#include <limits>

#include "analyses/circuits/circuit_file.h"
#include "analyses/circuits/patching_output.h"
#include "core/store/circuit_schema.h"

namespace headscope {

Circuit path_circuit_as_circuit(const PathCircuit& circuit, const PathCircuitOptions& options,
                                const std::string& task) {
  Circuit out;
  out.n_layers = circuit.n_layers;
  out.n_heads = circuit.n_heads;
  out.scores = circuit.head_scores();
  for (const int64_t stage : circuit.stage_of_head) out.selected.push_back(stage >= 0 ? 1 : 0);
  for (const PathCircuitEdge& e : circuit.edges) out.edges.push_back(e.edge);
  out.method = "path_patching";
  out.task = task;
  if (options.top_fraction > 0.0) {
    out.selection.rule = kSelectionTopFraction;
    out.selection.abs = true;
  } else {
    out.selection = CircuitSelection::at_least(options.threshold, true);
  }
  return out;
}

void write_path_patching(const AnalysisTarget& target, const std::string& name,
                         const PathCircuit& circuit, const std::vector<PatchingPair>& pairs,
                         const PathPatchingSettings& settings) {
  const PathCircuitOptions& o = settings.options;
  const std::string task =
      settings.source.task.empty() ? settings.source.dataset : settings.source.task;
  AnalysisWriter out = write_circuit(target, name, path_circuit_as_circuit(circuit, o, task));
  const int64_t layers = circuit.n_layers, heads = circuit.n_heads;
  const auto stages = static_cast<int64_t>(circuit.stages.size());
  const auto n = static_cast<int64_t>(pairs.size());

  out.write_i64(kCircuitStage, {layers, heads}, circuit.stage_of_head, {"layer", "head"});
  std::vector<double> stage_scores, per_sample, cuts;
  std::vector<std::string> receivers;
  for (const PathStage& stage : circuit.stages) {
    stage_scores.insert(stage_scores.end(), stage.result.scores.begin(), stage.result.scores.end());
    per_sample.insert(per_sample.end(), stage.result.per_sample.begin(),
                      stage.result.per_sample.end());
    cuts.push_back(stage.cut);
    receivers.push_back(receivers_text(stage.receivers));
  }
  out.write_f64(kCircuitStageScores, {stages, layers, heads}, stage_scores,
                {"stage", "layer", "head"});
  out.write_f64(kCircuitStagePerSample, {stages, n, layers, heads}, per_sample,
                {"stage", "sample", "layer", "head"});
  out.write_strings(kCircuitStageReceivers, receivers, "stage");
  out.write_f64(kCircuitStageCut, {stages}, cuts, {"stage"});
  if (!circuit.edges.empty()) {
    std::vector<int64_t> edge_stage;
    for (const PathCircuitEdge& e : circuit.edges) edge_stage.push_back(e.stage);
    out.write_i64(kCircuitEdgeStage, {static_cast<int64_t>(edge_stage.size())}, edge_stage,
                  {kDimEdge});
  }
  const PathPatchingResult& first = circuit.stages.front().result;
  out.write_f64("clean_metric", {n}, first.clean_metric, {"sample"});
  out.write_f64("corrupted_metric", {n}, first.corrupted_metric, {"sample"});
  write_patching_pairs(out, pairs);

  out.set_attribute("", kSelectionTopFraction, o.top_fraction);
  out.set_attribute("", "edge_fraction", o.edge_fraction);
  out.set_attribute("", "receivers", settings.receivers);
  std::string inputs;
  for (const ReceiverInput input : o.inputs)
    inputs += std::string(inputs.empty() ? "" : ",") + receiver_input_name(input);
  out.set_attribute("", "receiver_inputs", inputs);
  out.set_attribute("", "iterative", int64_t{o.iterative ? 1 : 0});
  out.set_attribute("", "stages", stages);
  out.set_attribute("", "metric", patching_metric_name(o.patching.metric));
  out.set_attribute("", "metric_rule",
                    "at each pair's scored position, float64; kl is -KL(clean || run) of the "
                    "next-token distribution");
  out.set_attribute("", "normalisation",
                    "(mean patched - mean clean) / (mean clean - mean corrupted), means over "
                    "pairs; negative: the path carries the clean behaviour");
  const bool final_only = o.patching.sender_positions == SenderPositions::kFinal;
  out.set_attribute("", "sender_positions", sender_positions_name(o.patching.sender_positions));
  out.set_attribute(
      "", "frozen",
      std::string("pass 1: every attention head's hook_z at its clean value but "
                  "the sender's, at its corrupted value ") +
          (final_only ? "at each pair's scored position (clean elsewhere)" : "at every position") +
          "; MLPs and norms recompute");
  out.set_attribute("", "senders", "every head of the layers before the latest receiver's");
  out.set_attribute("", "clean_mean", first.clean_mean);
  out.set_attribute("", "corrupted_mean", first.corrupted_mean);
  out.set_attribute("", "samples", n);
  out.set_attribute("", "batch_size", first.batch_size);
  out.set_attribute("", "forward_passes", circuit.forward_passes);
  out.set_attribute("", "seconds", circuit.seconds);
  out.set_attribute("", "dataset", settings.source.dataset);
  if (!settings.source.task.empty()) {
    out.set_attribute("", "length", settings.source.length);
    out.set_attribute("", "seed", static_cast<int64_t>(settings.source.seed));
    out.set_attribute("", "sample_seeds", "seed + i for sample i; niah depth (i + 0.5) / samples");
  }
  out.set_attribute("", "device", settings.run.device);
  out.set_attribute("", "dtype", settings.run.dtype);
  out.commit();
}

}  // namespace headscope
