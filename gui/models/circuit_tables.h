// The circuits of a file as the circuits view lists them: each circuit of /analyses/circuits/
// (docs/CIRCUITS.md) with its method, selected heads and scored edges, and the overlap analysis
// /analyses/circuit_overlap ([C, C] measures between circuits) when the file has it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "gui/models/open_file.h"

namespace headscope::gui {

struct CircuitEdges {
  std::string name;    // the group's name: "ioi", "ioi_eap"
  std::string method;  // the method attribute ("" when absent)
  int64_t selected_heads = 0;
  // The shape of `selected` (else of `scores`) and its flags, row-major [layers, heads]; 0 x 0
  // and empty when the circuit has neither.
  int64_t layers = 0, heads = 0;
  std::vector<uint8_t> selected;
  std::vector<std::string> sender, receiver;  // [E]; empty for head-only methods
  std::vector<double> score;                  // [E]
  // The faithfulness curve (`headscope eap`): [P] points of (edges kept, metric, normalised
  // score); empty when the circuit has none.
  std::vector<int64_t> faithfulness_edges;
  std::vector<double> faithfulness_metric, faithfulness_score;
};

struct CircuitOverlap {
  std::vector<std::string> labels;          // [C]: circuit_a's (and circuit_b's) labels
  std::vector<std::string> measures;        // the [C, C] datasets present, in the format's order
  std::vector<std::vector<double>> values;  // per measure, C x C row-major (a, b)
};

struct CircuitTables {
  std::vector<CircuitEdges> circuits;  // by name
  std::optional<CircuitOverlap> overlap;
};

// Metadata only; takes hdf5_lock().
bool has_circuit_tables(const OpenFile& file);
// Takes hdf5_lock(); IoError or InvalidInput naming the file and dataset when one is malformed.
CircuitTables read_circuit_tables(const OpenFile& file);

}  // namespace headscope::gui
