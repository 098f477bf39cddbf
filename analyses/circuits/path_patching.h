// Path patching (Wang et al. 2022, IOI; Merullo et al. 2024): the effect of one sender head on
// the rest of the model through chosen receivers only — the logits, or the queries, keys or
// values of chosen heads — and not through any other path.
//
// For each sender head s, on each clean/corrupted pair:
//   pass 1: the clean prompt, every attention head's hook_z frozen to its clean-run value except
//           s, which takes its corrupted-run value (MLPs and norms recompute, as in Wang et al.);
//           record what the receivers see: hook_q/k/v of the receiver heads (their q/k/v inputs
//           projected, so patching these is patching the input of that head alone), or the
//           logits (for receivers = logits: patching the final residual into a clean run gives
//           pass 1's logits again, so pass 2 is pass 1 itself);
//   pass 2: the clean prompt with only the receivers' recorded values patched in.
// Score of s = (mean m(pass 2) - mean m(clean)) / (mean m(clean) - mean m(corrupted)), means
// over the pairs (TransformerLens / Wang et al.): 0 when the path carries nothing, -1 when it
// alone carries the whole clean-minus-corrupted gap, negative when it matters for the clean
// behaviour. Senders are every head of a layer before the latest receiver's (every head for the
// logits); a receiver in a layer at or before a sender's sees its clean value, so that sender's
// score counts only the receivers it can reach. Batches replicate the clean prompt, each row
// another sender, as activation patching's sweep does.
//
// Grouped-query models: k and v belong to key/value heads. Receiver "L.H:k" patches the k of
// query head H's key/value head, and so changes the keys of every query head of that group.
//
//   PathReceivers to_logits = parse_path_receivers("logits", config, kAllReceiverInputs);
//   PathPatchingResult r = path_patching(hooked, pairs, to_logits, {}, PathPatchingOptions());
//   r.scores  // [layer * H + head]: NaN for heads that were not senders
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "analyses/circuits/circuit.h"
#include "analyses/circuits/patching_metric.h"
#include "analyses/circuits/task_pairs.h"
#include "dist/work_split.h"
#include "hooks/hooked_model.h"

namespace headscope {

enum class ReceiverInput { kQ, kK, kV };
inline const std::vector<ReceiverInput> kAllReceiverInputs = {ReceiverInput::kQ, ReceiverInput::kK,
                                                              ReceiverInput::kV};
const char* receiver_input_name(ReceiverInput input);  // "q", "k", "v"

struct HeadIndex {
  int64_t layer = 0;
  int64_t head = 0;
  bool operator==(const HeadIndex& o) const { return layer == o.layer && head == o.head; }
  bool operator<(const HeadIndex& o) const {
    return layer != o.layer ? layer < o.layer : head < o.head;
  }
};

// One input of one receiver head; `head` is a query head also for k and v.
struct HeadReceiver {
  HeadIndex at;
  ReceiverInput input = ReceiverInput::kQ;
};

// Either the logits or a set of head inputs.
struct PathReceivers {
  bool logits = false;
  std::vector<HeadReceiver> heads;
};

// "logits", or "L.H[:q|k|v],..." (a head without ":x" receives on every input of `inputs`).
// InvalidInput naming the item and what was expected: not L.H, a layer or head out of the
// model's range, an input other than q, k, v, logits with an input or among heads, a repeat.
PathReceivers parse_path_receivers(const std::string& text, const ModelConfig& config,
                                   const std::vector<ReceiverInput>& inputs);

// Graph node names as circuit edges spell them (EAP-IG's): "a1.h3", "a1.h3<q>", "logits".
std::string head_node_name(const HeadIndex& head);
std::string receiver_node_name(const HeadReceiver& receiver);
std::string receivers_text(const PathReceivers& receivers);  // "logits" or "a1.h3<q>,..."

// Every head of the layers before the latest receiver's (all heads for the logits).
std::vector<HeadIndex> default_senders(const ModelConfig& config, const PathReceivers& receivers);

// Where pass 1 gives the sender its corrupted output: every position (Wang et al.'s path
// patching), or only each pair's scored (final) position, so the path counts only what the
// sender writes where the answer is read.
enum class SenderPositions { kAll, kFinal };
inline const std::vector<SenderPositions> kSenderPositions = {SenderPositions::kAll,
                                                              SenderPositions::kFinal};
const char* sender_positions_name(SenderPositions v);

struct PathPatchingOptions {
  PatchingMetric metric = PatchingMetric::kLogitDiff;
  SenderPositions sender_positions = SenderPositions::kAll;
  // Rows (sender x pair) per forward pass; 0: as activation patching chooses.
  int64_t batch_size = 0;
  bool quiet = false;

  PathPatchingOptions& with_metric(PatchingMetric v) { return metric = v, *this; }
  PathPatchingOptions& with_sender_positions(SenderPositions v) {
    return sender_positions = v, *this;
  }
  PathPatchingOptions& with_batch_size(int64_t v) { return batch_size = v, *this; }
  PathPatchingOptions& with_quiet(bool v) { return quiet = v, *this; }
};

struct PathPatchingResult {
  int64_t n_layers = 0, n_heads = 0;
  std::vector<HeadIndex> senders;
  std::vector<double> scores;      // [layer * n_heads + head]; NaN: not a sender
  std::vector<double> per_sample;  // [pair, layer * n_heads + head]: m(pass 2); NaN: not a sender
  std::vector<double> clean_metric, corrupted_metric;  // [pair]
  double clean_mean = 0.0, corrupted_mean = 0.0;
  int64_t batch_size = 0;
  int64_t forward_passes = 0;  // the unpatched runs included
  double seconds = 0.0;
};

// `senders` empty: default_senders. InvalidInput before any compute when the pairs are empty,
// logit-diff meets a pair without a distractor, no sender precedes the receivers, or (after the
// unpatched runs) clean and corrupted score the same mean metric. Under a `split` (a launch,
// docs/DISTRIBUTED.md) every process runs the unpatched runs and its share of the batches, and
// each returns the result one process computes (the same batches, so the same bits).
PathPatchingResult path_patching(HookedModel& model, const std::vector<PatchingPair>& pairs,
                                 const PathReceivers& receivers,
                                 const std::vector<HeadIndex>& senders,
                                 const PathPatchingOptions& options,
                                 const WorkSplit& split = WorkSplit{});

// A circuit by path patching. One stage: `receivers` and their senders (default_senders),
// scored together; the senders whose |score| reaches --threshold (or the top `top_fraction` of
// them by |score|, at least one) are selected, and each selected sender's edge into each
// receiver input is path-patched on its own (one receiver input at a time) and kept when its
// |score| is at least edge_fraction of the sender's stage |score| (a sender whose effect spreads
// over many receiver inputs keeps the ones that carry a good part of it); an edge into the
// logits is the sender's stage score. With `iterative`, the selected heads not in the circuit
// yet join it at that stage and become the next stage's receivers, on each of `inputs`, until a
// stage adds no head or no head precedes the receivers (Wang et al.'s backwards search from the
// logits when stage 0's receivers are the logits).
struct PathCircuitOptions {
  PathPatchingOptions patching;
  double threshold = 0.1;     // used when top_fraction is 0
  double top_fraction = 0.0;  // in (0, 1]: the top fraction per stage instead of the threshold
  double edge_fraction = 0.25;
  bool iterative = false;
  std::vector<ReceiverInput> inputs = kAllReceiverInputs;  // of later stages' receivers

  PathCircuitOptions& with_threshold(double v) { return threshold = v, *this; }
  PathCircuitOptions& with_top_fraction(double v) { return top_fraction = v, *this; }
  PathCircuitOptions& with_iterative(bool v) { return iterative = v, *this; }
  PathCircuitOptions& with_edge_fraction(double v) { return edge_fraction = v, *this; }
};

struct PathStage {
  PathReceivers receivers;
  PathPatchingResult result;  // every sender against all receivers of the stage at once
  double cut = 0.0;           // the |score| a sender needed (the weakest selected for top_fraction)
  std::vector<HeadIndex> selected;
  std::vector<HeadIndex> added;  // selected and not in the circuit before
};

struct PathCircuitEdge {
  CircuitEdge edge;  // sender "aL.hH", receiver "aL.hH<q>" or "logits", score
  int64_t stage = 0;
};

struct PathCircuit {
  int64_t n_layers = 0, n_heads = 0;
  std::vector<PathStage> stages;
  std::vector<int64_t> stage_of_head;  // [layer * n_heads + head]; -1: not in the circuit
  std::vector<PathCircuitEdge> edges;
  int64_t forward_passes = 0;
  double seconds = 0.0;

  // Each head's stage score of the largest magnitude (NaN: never a sender).
  std::vector<double> head_scores() const;
};

// InvalidInput as path_patching; `split` as there (every stage's and edge's runs split).
PathCircuit path_circuit(HookedModel& model, const std::vector<PatchingPair>& pairs,
                         const PathReceivers& receivers, const PathCircuitOptions& options,
                         const WorkSplit& split = WorkSplit{});

}  // namespace headscope
