#include "gui/models/circuit_graph.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <numeric>

#include "core/base/error.h"

namespace headscope::gui {
namespace {

// A non-negative decimal integer filling all of `text`.
std::optional<int64_t> parse_index(const std::string& text) {
  int64_t value = -1;
  const char* end = text.data() + text.size();
  const auto [at, error] = std::from_chars(text.data(), end, value);
  if (text.empty() || error != std::errc() || at != end || value < 0) return std::nullopt;
  return value;
}

}  // namespace

std::optional<ParsedNode> parse_circuit_node(const std::string& name) {
  using Kind = GraphNode::Kind;
  if (name == "input") return ParsedNode{{Kind::kInput}, ""};
  if (name == "logits") return ParsedNode{{Kind::kLogits}, ""};
  if (name.size() > 1 && name[0] == 'm') {
    const std::optional<int64_t> layer = parse_index(name.substr(1));
    if (!layer) return std::nullopt;
    return ParsedNode{{Kind::kMlp, *layer}, ""};
  }
  if (name.size() < 4 || name[0] != 'a') return std::nullopt;
  std::string head_text = name;
  std::string input;
  if (name.size() > 3 && name.back() == '>' && name[name.size() - 3] == '<') {
    input = name.substr(name.size() - 2, 1);
    if (input != "q" && input != "k" && input != "v") return std::nullopt;
    head_text = name.substr(0, name.size() - 3);
  }
  const size_t dot = head_text.find(".h");
  if (dot == std::string::npos) return std::nullopt;
  const std::optional<int64_t> layer = parse_index(head_text.substr(1, dot - 1));
  const std::optional<int64_t> head = parse_index(head_text.substr(dot + 2));
  if (!layer || !head) return std::nullopt;
  return ParsedNode{{Kind::kHead, *layer, *head}, input};
}

std::optional<size_t> CircuitGraph::find(const GraphNode& node) const {
  const auto at = std::find(nodes.begin(), nodes.end(), node);
  if (at == nodes.end()) return std::nullopt;
  return static_cast<size_t>(at - nodes.begin());
}

std::vector<size_t> edges_by_strength(const CircuitEdges& circuit) {
  std::vector<size_t> order(circuit.score.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&circuit](size_t a, size_t b) {
    return std::fabs(circuit.score[a]) > std::fabs(circuit.score[b]);
  });
  return order;
}

CircuitGraph circuit_graph(const CircuitEdges& circuit, size_t top_n) {
  using Kind = GraphNode::Kind;
  CircuitGraph graph;
  graph.layers = circuit.layers;
  graph.heads = circuit.heads;
  graph.total_edges = circuit.score.size();
  // Every endpoint parsed once; the grid grows to the heads and MLPs the edges name.
  std::vector<GraphNode> sender(circuit.score.size()), receiver(circuit.score.size());
  for (size_t e = 0; e < circuit.score.size(); ++e) {
    for (auto [text, node] : {std::pair{&circuit.sender[e], &sender[e]},
                              std::pair{&circuit.receiver[e], &receiver[e]}}) {
      const std::optional<ParsedNode> parsed = parse_circuit_node(*text);
      if (!parsed) {
        throw InvalidInput("circuit " + circuit.name + ": edge " + std::to_string(e) + ": '" +
                           *text +
                           "' is not a node name (input, aL.hH, aL.hH<q|k|v>, mL or logits)");
      }
      *node = parsed->node;
      graph.layers = std::max(graph.layers, node->layer + 1);
      graph.heads = std::max(graph.heads, node->head + 1);
      graph.has_input |= node->kind == Kind::kInput;
      graph.has_mlp |= node->kind == Kind::kMlp;
      graph.has_logits |= node->kind == Kind::kLogits;
    }
  }
  for (int64_t l = 0; l < graph.layers; ++l) {
    for (int64_t h = 0; h < graph.heads; ++h) {
      GraphNode node{Kind::kHead, l, h};
      const bool in_grid = l < circuit.layers && h < circuit.heads;
      node.selected = in_grid && !circuit.selected.empty() &&
                      circuit.selected[static_cast<size_t>(l * circuit.heads + h)] != 0;
      graph.nodes.push_back(node);
    }
  }
  if (graph.has_input) graph.nodes.push_back({Kind::kInput});
  if (graph.has_mlp) {
    for (int64_t l = 0; l < graph.layers; ++l) graph.nodes.push_back({Kind::kMlp, l});
  }
  if (graph.has_logits) graph.nodes.push_back({Kind::kLogits});
  const std::vector<size_t> order = edges_by_strength(circuit);
  for (size_t i = 0; i < std::min(top_n, order.size()); ++i) {
    const size_t e = order[i];
    graph.edges.push_back({*graph.find(sender[e]), *graph.find(receiver[e]), e, circuit.sender[e],
                           circuit.receiver[e], circuit.score[e]});
    if (std::isfinite(circuit.score[e])) {
      graph.max_abs_score = std::max(graph.max_abs_score, std::fabs(circuit.score[e]));
    }
  }
  return graph;
}

}  // namespace headscope::gui
