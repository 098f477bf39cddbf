// Names of the circuit groups and the overlap analysis (docs/FORMAT.md, "Circuits"; writers and
// readers in analyses/circuits/). Every name a file holds is spelled here once.
//
//  /analyses/circuits/<name>/: one circuit (a task's, by one method) of a model with L layers and
//    H query heads:
//      scores   float64 [L, H] (layer, head): the method's per-head score; NaN: not scored
//      selected uint8 [L, H] (layer, head): 1 for the heads in the circuit
//      edges/sender, edges/receiver strings [E] (edge), edges/score float64 [E] (edge):
//        optional, for methods that score edges between nodes ("a0.h3", "m1", "logits")
//      faithfulness/edges int64, faithfulness/metric, faithfulness/score float64 [P] (point):
//        optional, the faithfulness curve of an edge method (headscope eap): the top n edges
//        kept, the mean metric of that circuit, its normalised faithfulness
//    attributes: method, task, selection ("top_k", "threshold" or the method's own rule), top_k
//    (int64, 0 when unused), threshold (float64, NaN when unused), abs (int64 1: the rule ranked
//    |score|), and every parameter of the method.
//  /analyses/circuit_overlap/: every pair of C compared circuits, [C, C] (circuit_a, circuit_b),
//    with circuit_a and circuit_b string scales holding the circuits' labels.
#pragma once

namespace headscope {

inline constexpr char kCircuitsCollection[] = "circuits";
inline constexpr char kCircuitScores[] = "scores";
inline constexpr char kCircuitSelected[] = "selected";
inline constexpr char kCircuitEdges[] = "edges";
inline constexpr char kCircuitEdgeSender[] = "edges/sender";
inline constexpr char kCircuitEdgeReceiver[] = "edges/receiver";
inline constexpr char kCircuitEdgeScore[] = "edges/score";
inline constexpr char kDimEdge[] = "edge";
inline constexpr char kCircuitFaithfulnessEdges[] = "faithfulness/edges";
inline constexpr char kCircuitFaithfulnessMetric[] = "faithfulness/metric";
inline constexpr char kCircuitFaithfulnessScore[] = "faithfulness/score";
inline constexpr char kDimPoint[] = "point";
inline constexpr char kAttrMethod[] = "method";
inline constexpr char kAttrSelection[] = "selection";
inline constexpr char kAttrSelectionTopK[] = "top_k";
inline constexpr char kAttrSelectionThreshold[] = "threshold";
inline constexpr char kAttrSelectionAbs[] = "abs";
inline constexpr char kSelectionTopK[] = "top_k";
inline constexpr char kSelectionThreshold[] = "threshold";

// Path patching's additions to a circuit group (analyses/circuits/path_patching_output.cpp),
// with S stages and N pairs:
//   head_stage int64 [L, H] (layer, head): the stage at which the head joined the circuit;
//     -1: not in it
//   stage_scores float64 [S, L, H] (stage, layer, head): every sender's score at each stage
//   stage_per_sample float64 [S, N, L, H] (stage, sample, layer, head): m of each patched run
//   stage_receivers strings [S] (stage): each stage's receivers; stage_cut float64 [S] (stage)
//   edges/stage int64 [E] (edge): the stage that found each edge
//   clean_metric, corrupted_metric float64 [N] (sample)
inline constexpr char kCircuitStage[] = "head_stage";
inline constexpr char kCircuitStageScores[] = "stage_scores";
inline constexpr char kCircuitStagePerSample[] = "stage_per_sample";
inline constexpr char kCircuitStageReceivers[] = "stage_receivers";
inline constexpr char kCircuitStageCut[] = "stage_cut";
inline constexpr char kCircuitEdgeStage[] = "edges/stage";
inline constexpr char kSelectionTopFraction[] = "top_fraction";
inline constexpr const char* kPathPatchingNames[] = {
    kCircuitStage,          kCircuitStageScores, kCircuitStagePerSample, kCircuitStageReceivers,
    kCircuitStageCut,       kCircuitEdgeStage,   kSelectionTopFraction,
};

inline constexpr char kCircuitOverlapAnalysis[] = "circuit_overlap";
inline constexpr char kDimCircuitA[] = "circuit_a";
inline constexpr char kDimCircuitB[] = "circuit_b";

// The [C, C] datasets of the overlap analysis, in the order docs/FORMAT.md lists them and the
// writer (analyses/circuits/circuit_overlap_file.cpp) fills them: int64 where `integer`, else
// float64.
struct CircuitOverlapDataset {
  const char* name;
  bool integer;
};
inline constexpr CircuitOverlapDataset kCircuitOverlapDatasets[] = {
    {"intersection", true},      {"union", true},
    {"jaccard", false},          {"overlap_coefficient", false},
    {"containment", false},      {"expected_intersection", false},
    {"hypergeometric_p", false}, {"permutation_p", false},
    {"permutation_mean", false}, {"permutation_low", false},
    {"permutation_high", false}, {"rank_heads", true},
    {"spearman", false},         {"spearman_p", false},
    {"kendall", false},          {"kendall_p", false},
};
// The overlap analysis's other datasets and its attributes.
inline constexpr char kCircuitOverlapSize[] = "size";
inline constexpr char kCircuitOverlapSource[] = "source";
inline constexpr char kAttrOverlapHeads[] = "heads";
inline constexpr char kAttrOverlapPermutations[] = "permutations";
inline constexpr char kAttrOverlapSeed[] = "seed";
inline constexpr char kAttrOverlapInterval[] = "interval";
// With the selection attributes above (selection, top_k, threshold, abs).
inline constexpr const char* kCircuitOverlapAttributes[] = {
    kAttrOverlapHeads,
    kAttrOverlapPermutations,
    kAttrOverlapSeed,
    kAttrOverlapInterval,
};

// Every circuit-group name a reader looks up: what tests/core/format_doc_test.cpp finds in
// docs/FORMAT.md.
inline constexpr const char* kCircuitNames[] = {
    kCircuitsCollection, kCircuitScores,          kCircuitSelected,   kCircuitEdges,
    kCircuitEdgeSender,  kCircuitEdgeReceiver,    kCircuitEdgeScore,  kDimEdge,
    kCircuitFaithfulnessEdges, kCircuitFaithfulnessMetric, kCircuitFaithfulnessScore, kDimPoint,
    kAttrMethod,         kAttrSelection,          kAttrSelectionTopK, kAttrSelectionThreshold,
    kAttrSelectionAbs,   kCircuitOverlapAnalysis, kDimCircuitA,       kDimCircuitB,
    kCircuitOverlapSize, kCircuitOverlapSource,
};

}  // namespace headscope
