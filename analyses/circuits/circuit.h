// A circuit as the overlap analysis sees it: per-head scores of a model's L x H attention heads
// and the set of heads selected from them (docs/CIRCUITS.md). Methods that find circuits
// (patching, EAP) fill one and write it with write_circuit (analyses/circuits/circuit_file.h).
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace headscope {

// How the selected heads were chosen from the scores. rule is kSelectionTopK, kSelectionThreshold
// (core/store/circuit_schema.h) or a method's own rule (its parameters then in its attributes).
struct CircuitSelection {
  std::string rule;
  int64_t top_k = 0;                                            // top_k: how many heads
  double threshold = std::numeric_limits<double>::quiet_NaN();  // threshold: the lowest kept
  bool abs = false;  // rank or threshold |score| instead of score

  static CircuitSelection top(int64_t k, bool abs);
  static CircuitSelection at_least(double threshold, bool abs);
};

// An edge between two nodes of the computational graph, named as the method names them
// ("a0.h3", "m1", "logits").
struct CircuitEdge {
  std::string sender;
  std::string receiver;
  double score = 0.0;
};

struct Circuit {
  int64_t n_layers = 0;
  int64_t n_heads = 0;
  std::vector<double> scores;     // [layer * n_heads + head]; NaN: the head was not scored
  std::vector<uint8_t> selected;  // the same layout; 1: in the circuit
  std::vector<CircuitEdge> edges;
  std::string method;
  std::string task;
  CircuitSelection selection;

  int64_t head_count() const { return n_layers * n_heads; }
  int64_t selected_count() const;
};

// The heads `selection` picks from `scores` (NaN never picked): for top_k the k largest (|score|
// with abs; equal scores in layer-major order), for threshold those at or above it. InvalidInput
// "WHAT: ..." when top_k is below 1 or above the scored heads. A rule other than these two is a
// programmer error: only the method that defined it can apply it.
std::vector<uint8_t> select_heads(const std::vector<double>& scores,
                                  const CircuitSelection& selection, const std::string& what);

}  // namespace headscope
