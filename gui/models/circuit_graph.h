// A circuit's edges as a graph to draw (the circuits view): the nodes its edges name
// ("input", "a<layer>.h<head>" with an optional "<q>", "<k>" or "<v>" receiver input,
// "m<layer>", "logits"; docs/CIRCUITS.md) placed by layer column and head row, every head of the
// circuit's [layer, head] grid, and its strongest edges by |score|.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "gui/models/circuit_tables.h"

namespace headscope::gui {

struct GraphNode {
  enum class Kind { kInput, kHead, kMlp, kLogits };
  Kind kind = Kind::kHead;
  int64_t layer = -1, head = -1;  // -1 where the kind has none
  bool selected = false;          // a head in the circuit's `selected`

  bool operator==(const GraphNode& o) const {
    return kind == o.kind && layer == o.layer && head == o.head;
  }
};

// A node name's node, and the receiver input it names ("q", "k", "v"; "" for none); nullopt for
// any other text.
struct ParsedNode {
  GraphNode node;
  std::string input;
};
std::optional<ParsedNode> parse_circuit_node(const std::string& name);

struct GraphEdge {
  size_t from = 0, to = 0;  // indices into CircuitGraph::nodes
  size_t index = 0;         // the edge's index in the file
  std::string sender, receiver;
  double score = 0;
};

struct CircuitGraph {
  // Head rows and layer columns: the circuit's grid, grown to every head an edge names.
  int64_t layers = 0, heads = 0;
  bool has_input = false, has_mlp = false, has_logits = false;
  // Every head of the grid (layer-major), then the input, MLP and logits nodes any of the
  // circuit's edges names.
  std::vector<GraphNode> nodes;
  std::vector<GraphEdge> edges;  // the strongest `top_n`, strongest first
  size_t total_edges = 0;
  double max_abs_score = 0;  // over the drawn edges

  // The node's index in `nodes`; nullopt when the graph has no such node.
  std::optional<size_t> find(const GraphNode& node) const;
};

// The circuit's edge indices, strongest |score| first (ties in file order): the order the
// circuits view lists and draws them.
std::vector<size_t> edges_by_strength(const CircuitEdges& circuit);

// InvalidInput naming the circuit and the text when an edge's sender or receiver is not a node
// name.
CircuitGraph circuit_graph(const CircuitEdges& circuit, size_t top_n);

}  // namespace headscope::gui
