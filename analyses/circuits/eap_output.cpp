#include "analyses/circuits/eap_output.h"

#include "analyses/circuits/circuit_file.h"
#include "core/store/circuit_schema.h"

namespace headscope {

Circuit eap_circuit(const EapGraph& graph, const EapResult& result, const EapOptions& options,
                    const std::string& task) {
  Circuit circuit;
  circuit.n_layers = graph.layers();
  circuit.n_heads = graph.heads();
  circuit.scores = head_scores(graph, result);
  circuit.selected = heads_of_top_edges(graph, result, options.top_n);
  for (const int64_t e : result.ranking) {
    const EapEdge& edge = graph.edges()[static_cast<size_t>(e)];
    circuit.edges.push_back({graph.sender_name(edge.sender), graph.receiver_name(edge.receiver),
                             result.scores[static_cast<size_t>(e)]});
  }
  circuit.method = eap_method_name(options.method);
  circuit.task = task;
  circuit.selection.rule = "top_n_edges";
  circuit.selection.abs = true;
  return circuit;
}

void write_eap_circuit(const AnalysisTarget& target, const std::string& name, const EapGraph& graph,
                       const EapResult& result, const EapOptions& options,
                       const PatchingSource& source, const PatchingRun& run) {
  const Circuit circuit =
      eap_circuit(graph, result, options, source.task.empty() ? source.dataset : source.task);
  AnalysisWriter out = write_circuit(target, name, circuit);
  out.set_attribute("", "selection_rule",
                    "heads that send or receive one of the top_n edges by |score| (a key or value "
                    "input: every query head of its group)");
  out.set_attribute("", "top_n", options.top_n);
  out.set_attribute("", "steps", options.method == EapMethod::kEap ? int64_t{1} : options.steps);
  out.set_attribute("", "interpolation",
                    options.method == EapMethod::kEap
                        ? "none: the gradient of the clean run"
                        : "inputs: embeddings e_corrupted + (k + 1/2)/steps (e_clean - "
                          "e_corrupted), k = 0 .. steps-1");
  out.set_attribute("", "ablation", eap_ablation_name(options.ablation));
  out.set_attribute("", "metric", patching_metric_name(options.metric));
  out.set_attribute("", "edge_score_rule",
                    "sum over positions of (a_corrupted(sender) - a_clean(sender)) . dm/d(input "
                    "of receiver), mean over pairs, in metric units");
  out.set_attribute("", "edge_order", "decreasing |score|; the first top_n edges are the circuit");
  out.set_attribute("", "head_score_rule",
                    "-(sum of the scores of the edges out of the head) / (clean_mean - "
                    "corrupted_mean)");
  out.set_attribute("", "normalisation",
                    "faithfulness = (mean m(circuit) - mean m(corrupted)) / (mean m(clean) - "
                    "mean m(corrupted)), means over pairs");
  out.set_attribute("", "edge_count", graph.edge_count());
  out.set_attribute("", "clean_mean", result.clean_mean);
  out.set_attribute("", "corrupted_mean", result.corrupted_mean);
  out.set_attribute("", "samples", static_cast<int64_t>(result.clean_metric.size()));
  out.set_attribute("", "batch_size", result.batch_size);
  out.set_attribute("", "forward_passes", result.forward_passes);
  out.set_attribute("", "backward_passes", result.backward_passes);
  out.set_attribute("", "dataset", source.dataset);
  if (!source.task.empty()) {
    out.set_attribute("", "length", source.length);
    out.set_attribute("", "seed", static_cast<int64_t>(source.seed));
  }
  out.set_attribute("", "device", run.device);
  out.set_attribute("", "dtype", run.dtype);

  const auto n = static_cast<int64_t>(result.clean_metric.size());
  out.write_f64("clean_metric", {n}, result.clean_metric, {"sample"});
  out.write_f64("corrupted_metric", {n}, result.corrupted_metric, {"sample"});
  if (!result.curve.empty()) {
    std::vector<int64_t> edges;
    std::vector<double> metric, score;
    double at_top_n = 0.0;
    for (const FaithfulnessPoint& p : result.curve) {
      edges.push_back(p.edges);
      metric.push_back(p.metric);
      score.push_back(p.faithfulness);
      if (p.edges == options.top_n) at_top_n = p.faithfulness;
    }
    const std::vector<int64_t> shape{static_cast<int64_t>(edges.size())};
    out.write_i64(kCircuitFaithfulnessEdges, shape, edges, {kDimPoint});
    out.write_f64(kCircuitFaithfulnessMetric, shape, metric, {kDimPoint});
    out.write_f64(kCircuitFaithfulnessScore, shape, score, {kDimPoint});
    out.set_attribute("", "faithfulness_top_n", at_top_n);
    out.set_attribute("", "faithfulness_area", result.area);
    out.set_attribute("", "faithfulness_area_rule",
                      "trapezoid area of faithfulness over the fraction of edges kept, [0, 1]");
  }
  out.commit();
}

}  // namespace headscope
