#include "gui/models/circuit_tables.h"

#include <algorithm>

#include "core/base/error.h"
#include "core/store/circuit_schema.h"
#include "core/store/recording_schema.h"
#include "gui/models/hdf5_listing.h"
#include "gui/models/hdf5_lock.h"
#include "gui/models/number_array.h"

namespace headscope::gui {
namespace {

const std::string kCircuitsPath = std::string(kAnalysesGroup) + "/" + kCircuitsCollection;
const std::string kOverlapPath = std::string(kAnalysesGroup) + "/" + kCircuitOverlapAnalysis;

CircuitEdges read_circuit(const OpenFile& file, const std::string& name) {
  const std::string group = kCircuitsPath + "/" + name;
  CircuitEdges circuit;
  circuit.name = name;
  for (const H5Entry& entry : list_h5_children(file.handle(), file.path(), group)) {
    if (entry.kind == H5EntryKind::kAttribute && entry.name == kAttrMethod) {
      circuit.method = entry.value;
    }
  }
  for (const char* grid : {kCircuitSelected, kCircuitScores}) {
    if (!has_path(file, group + "/" + grid)) continue;
    const NumberArray array = read_number_array(file, group + "/" + grid);
    if (array.shape.size() != 2) {
      throw InvalidInput(file.path() + ": " + group + "/" + grid +
                         ": expected [layer, head], got " + shape_text(array.shape));
    }
    circuit.layers = array.shape[0];
    circuit.heads = array.shape[1];
    if (std::string(grid) == kCircuitSelected) {
      for (double v : array.values) circuit.selected.push_back(v != 0 ? 1 : 0);
      circuit.selected_heads = std::count(circuit.selected.begin(), circuit.selected.end(), 1);
    }
    break;
  }
  if (has_path(file, group + "/" + kCircuitEdgeScore)) {
    circuit.sender = read_string_array(file, group + "/" + kCircuitEdgeSender);
    circuit.receiver = read_string_array(file, group + "/" + kCircuitEdgeReceiver);
    circuit.score = read_number_array(file, group + "/" + kCircuitEdgeScore).values;
    if (circuit.sender.size() != circuit.score.size() ||
        circuit.receiver.size() != circuit.score.size()) {
      throw InvalidInput(file.path() + ": " + group +
                         ": edges/sender, edges/receiver and edges/score differ in length");
    }
  }
  if (has_path(file, group + "/" + kCircuitFaithfulnessEdges)) {
    for (double n : read_number_array(file, group + "/" + kCircuitFaithfulnessEdges).values)
      circuit.faithfulness_edges.push_back(static_cast<int64_t>(n));
    circuit.faithfulness_metric =
        read_number_array(file, group + "/" + kCircuitFaithfulnessMetric).values;
    circuit.faithfulness_score =
        read_number_array(file, group + "/" + kCircuitFaithfulnessScore).values;
    if (circuit.faithfulness_metric.size() != circuit.faithfulness_edges.size() ||
        circuit.faithfulness_score.size() != circuit.faithfulness_edges.size()) {
      throw InvalidInput(file.path() + ": " + group +
                         ": faithfulness/edges, faithfulness/metric and faithfulness/score "
                         "differ in length");
    }
  }
  return circuit;
}

CircuitOverlap read_overlap(const OpenFile& file) {
  CircuitOverlap overlap;
  overlap.labels = read_string_array(file, kOverlapPath + "/" + kDimCircuitA);
  const auto c = static_cast<int64_t>(overlap.labels.size());
  for (const CircuitOverlapDataset& dataset : kCircuitOverlapDatasets) {
    const std::string path = kOverlapPath + "/" + dataset.name;
    if (!has_path(file, path)) continue;
    NumberArray array = read_number_array(file, path);
    if (array.shape != std::vector<int64_t>{c, c}) {
      throw InvalidInput(file.path() + ": " + path + ": expected [" + std::to_string(c) + ", " +
                         std::to_string(c) + "] (circuit_a, circuit_b)");
    }
    overlap.measures.emplace_back(dataset.name);
    overlap.values.push_back(std::move(array.values));
  }
  return overlap;
}

}  // namespace

bool has_circuit_tables(const OpenFile& file) {
  auto lock = hdf5_lock();
  return has_path(file, kCircuitsPath) || has_path(file, kOverlapPath);
}

CircuitTables read_circuit_tables(const OpenFile& file) {
  auto lock = hdf5_lock();
  CircuitTables tables;
  if (has_path(file, kCircuitsPath)) {
    for (const H5Entry& entry : list_h5_children(file.handle(), file.path(), kCircuitsPath)) {
      if (entry.kind == H5EntryKind::kGroup)
        tables.circuits.push_back(read_circuit(file, entry.name));
    }
  }
  if (has_path(file, kOverlapPath)) tables.overlap = read_overlap(file);
  return tables;
}

}  // namespace headscope::gui
