// Edge attribution patching (EAP, Syed et al. 2023) and EAP-IG (Hanna et al. 2024, "Have Faith
// in Faithfulness", the "inputs" variant) on the graph of analyses/circuits/eap_graph.h, and the
// faithfulness of the circuits their top edges form.
//
// Score of the edge u -> v, averaged over the pairs and summed over positions t:
//
//   EAP     s(u, v) = Σ_t (a_corrupt(u) − a_clean(u))_t · ∂m/∂x_v (clean run)_t
//   EAP-IG  s(u, v) = Σ_t (a_corrupt(u) − a_clean(u))_t · (1/S) Σ_k ∂m/∂x_v (run k)_t
//
// where x_v is the receiver's own input (edge_intervention.h), m the pair's metric
// (patching_metric.h) and run k the clean prompt with the input node's output (the embeddings)
// replaced by e_corrupt + α_k (e_clean − e_corrupt), α_k = (k + 1/2) / S, k = 0 .. S−1 (the
// midpoint rule; the EAP-IG library takes the left or right end of each interval). s(u, v)
// estimates m(clean with that one edge corrupted) − m(clean) to first order.
//
// Faithfulness of the top n edges by |s|: the clean prompt run with every other edge's sender
// output replaced in its receiver's input (edge_intervention.h) by its corrupted value (patch),
// its mean over the pairs' clean prompts and positions (mean), or zero; normalised as
// (m(circuit) − m(corrupted)) / (m(clean) − m(corrupted)) with means over the pairs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "analyses/circuits/eap_graph.h"
#include "analyses/circuits/patching_metric.h"
#include "analyses/circuits/task_pairs.h"
#include "dist/work_split.h"
#include "hooks/hooked_model.h"

namespace headscope {

enum class EapMethod { kEap, kEapIg };
enum class EapAblation { kPatch, kMean, kZero };

inline const std::vector<EapMethod> kEapMethods = {EapMethod::kEap, EapMethod::kEapIg};
inline const std::vector<EapAblation> kEapAblations = {EapAblation::kPatch, EapAblation::kMean,
                                                       EapAblation::kZero};

const char* eap_method_name(EapMethod method);        // "eap", "eap-ig"
const char* eap_ablation_name(EapAblation ablation);  // "patch", "mean", "zero"

struct EapOptions {
  EapMethod method = EapMethod::kEapIg;
  int64_t steps = 5;  // EAP-IG's interpolation steps S
  int64_t top_n = 200;
  EapAblation ablation = EapAblation::kPatch;
  PatchingMetric metric = PatchingMetric::kLogitDiff;
  int64_t batch_size = 0;    // pairs per forward pass; 0: what a quarter of free memory holds
  bool faithfulness = true;  // run the sweep after scoring
  bool quiet = false;

  EapOptions& with_method(EapMethod v) { return method = v, *this; }
  EapOptions& with_steps(int64_t v) { return steps = v, *this; }
  EapOptions& with_top_n(int64_t v) { return top_n = v, *this; }
  EapOptions& with_ablation(EapAblation v) { return ablation = v, *this; }
  EapOptions& with_metric(PatchingMetric v) { return metric = v, *this; }
  EapOptions& with_batch_size(int64_t v) { return batch_size = v, *this; }
  EapOptions& with_faithfulness(bool v) { return faithfulness = v, *this; }
  EapOptions& with_quiet(bool v) { return quiet = v, *this; }
};

struct FaithfulnessPoint {
  int64_t edges = 0;          // the top n kept
  double metric = 0.0;        // mean m(circuit)
  double faithfulness = 0.0;  // normalised
};

struct EapResult {
  std::vector<double> scores;    // [graph.edge_count()], in graph.edges() order
  std::vector<int64_t> ranking;  // edge indices by decreasing |score| (ties: graph order)
  std::vector<double> clean_metric, corrupted_metric;  // [pair]
  double clean_mean = 0.0, corrupted_mean = 0.0;
  std::vector<FaithfulnessPoint> curve;  // increasing edges, 0 and all edges included
  double area = 0.0;  // trapezoid area under faithfulness over the fraction of edges kept
  int64_t batch_size = 0;
  int64_t forward_passes = 0;
  int64_t backward_passes = 0;
  double seconds = 0.0;
};

// InvalidInput before any compute when: there are no pairs; logit-diff is asked and a pair has no
// distractor (naming it); steps < 1; top_n outside [1, edges]; method eap with metric kl (its
// gradient at the clean run is zero); the clean and corrupted mean metrics are equal.
EapResult edge_attribution(HookedModel& model, const EapGraph& graph,
                           const std::vector<PatchingPair>& pairs, const EapOptions& options);
// Split over processes (dist/work_split.h): each runs its share of the batches of pairs (the
// first process's batches; cost: rows x length) in scoring and in faithfulness, the processes
// exchange every batch's sums and each adds them in batch order, returning the result one
// process computes (the same bits). Mean ablation's means are computed by every process.
EapResult edge_attribution(HookedModel& model, const EapGraph& graph,
                           const std::vector<PatchingPair>& pairs, const EapOptions& options,
                           const WorkSplit& split);

// The faithfulness of the top n edges of `ranking` for each n in `edge_counts`.
std::vector<FaithfulnessPoint> faithfulness_curve(HookedModel& model, const EapGraph& graph,
                                                  const std::vector<PatchingPair>& pairs,
                                                  const std::vector<int64_t>& ranking,
                                                  const std::vector<int64_t>& edge_counts,
                                                  const EapOptions& options, double clean_mean,
                                                  double corrupted_mean);

// Bytes one pair of `tokens` tokens needs in a scoring or faithfulness pass: the sender outputs
// ([tokens, senders, d_model]) held about eight times over (clean, corrupted, their difference,
// the concatenated outputs, the receivers' split inputs and their gradients). Batches are sized
// by it; a batch of one that does not fit the free memory is refused with this estimate
// (Llama-3-8B's shape, 128 tokens, bf16: 8.9 GB a pair).
double eap_row_bytes(const EapGraph& graph, const ModelConfig& config, int64_t tokens,
                     int64_t element_size);

// 0, 1, 2, 5, 10, 20, 50, ... below `edges`, `top_n` and `edges`, increasing.
std::vector<int64_t> faithfulness_sweep(int64_t edges, int64_t top_n);

// Per-head scores of the circuit file: minus the sum of the edge scores out of the head,
// divided by m(clean) − m(corrupted): the first-order estimate of the fraction of the clean −
// corrupted gap lost when that head's output is corrupted everywhere (1 − the activation
// patching score of its hook_z with --direction noise). [layer * H + head].
std::vector<double> head_scores(const EapGraph& graph, const EapResult& result);
// 1 for the heads that send or receive one of the top n edges ([layer * H + head]).
std::vector<uint8_t> heads_of_top_edges(const EapGraph& graph, const EapResult& result,
                                        int64_t top_n);

}  // namespace headscope
