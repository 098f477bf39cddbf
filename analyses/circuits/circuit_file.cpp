#include "analyses/circuits/circuit_file.h"

#include <hdf5.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <optional>

#include "core/base/error.h"
#include "core/store/circuit_schema.h"
#include "core/store/hdf5_attribute.h"
#include "core/store/recording_schema.h"

namespace headscope {
namespace {

std::string circuit_path(const std::string& name) {
  return std::string(kAnalysesGroup) + "/" + kCircuitsCollection + "/" + name;
}

std::string joined(const std::vector<std::string>& names) {
  std::string text;
  for (const std::string& name : names) text += (text.empty() ? "" : ", ") + name;
  return text;
}

// An open recording and the head grid of its model.
struct HeadFile {
  H5Id file;
  int64_t n_layers = 0;
  int64_t n_heads = 0;
};

HeadFile open_head_file(const std::string& path) {
  h5_init();
  HeadFile opened{open_recording_file(path, H5F_ACC_RDONLY)};
  check_format_version(opened.file.get(), path);
  const H5Where root{path, "/"};
  for (auto [name, field] :
       {std::pair{"n_layers", &HeadFile::n_layers}, std::pair{"n_heads", &HeadFile::n_heads}}) {
    const std::optional<int64_t> value = h5_read_int_attribute(opened.file.get(), name, root);
    if (!value || *value < 1) {
      throw InvalidInput(path + ": root attribute " + name + " is missing or not positive");
    }
    opened.*field = *value;
  }
  return opened;
}

bool exists(hid_t file, const std::string& absolute, const H5Where& where) {
  return h5_path_exists(file, absolute.substr(1), where);
}

// The dataset at `absolute`, which must be shaped as the model's head grid and hold integers or
// (with any_number) floats too, read as `memory_type`; `expected` names the type in errors.
template <typename T>
std::vector<T> read_head_grid(const HeadFile& opened, const std::string& path,
                              const std::string& absolute, bool any_number, hid_t memory_type,
                              const char* expected) {
  const H5Where where{path, absolute};
  if (!exists(opened.file.get(), absolute, where)) {
    throw InvalidInput(path + " has no dataset " + absolute);
  }
  H5Id data = h5_own(H5Dopen2(opened.file.get(), absolute.c_str(), H5P_DEFAULT), H5Kind::kDataset,
                     where, "open dataset (is it a group?)");
  H5Id type = h5_own(H5Dget_type(data.get()), H5Kind::kDatatype, where, "read type");
  const H5T_class_t type_class = H5Tget_class(type.get());
  const bool number = type_class == H5T_FLOAT || type_class == H5T_INTEGER;
  if (any_number ? !number : type_class != H5T_INTEGER) {
    throw InvalidInput(where.str() + ": expected " + expected + " per head");
  }
  const std::vector<hsize_t> dims = h5_dataset_dims(data.get(), where);
  const std::vector<hsize_t> model{static_cast<hsize_t>(opened.n_layers),
                                   static_cast<hsize_t>(opened.n_heads)};
  if (dims != model) {
    std::string shape;
    for (hsize_t d : dims) shape += (shape.empty() ? "" : ", ") + std::to_string(d);
    throw InvalidInput(where.str() + ": shape [" + shape + "] is not the model's [layer, head] [" +
                       std::to_string(model[0]) + ", " + std::to_string(model[1]) + "]");
  }
  std::vector<T> values(static_cast<size_t>(opened.n_layers * opened.n_heads));
  h5_check(H5Dread(data.get(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), where,
           "read dataset");
  return values;
}

std::vector<std::string> read_strings(hid_t group, const std::string& name, const H5Where& where) {
  H5Id data =
      h5_own(H5Dopen2(group, name.c_str(), H5P_DEFAULT), H5Kind::kDataset, where, "open dataset");
  return h5_read_string_dataset(data.get(), where);
}

std::vector<CircuitEdge> read_edges(hid_t group, const std::string& path,
                                    const std::string& absolute) {
  const H5Where where{path, absolute + "/" + kCircuitEdges};
  if (!h5_path_exists(group, kCircuitEdges, where)) return {};
  const std::vector<std::string> senders =
      read_strings(group, kCircuitEdgeSender, {path, absolute + "/" + kCircuitEdgeSender});
  const std::vector<std::string> receivers =
      read_strings(group, kCircuitEdgeReceiver, {path, absolute + "/" + kCircuitEdgeReceiver});
  const H5Where score_where{path, absolute + "/" + kCircuitEdgeScore};
  H5Id score = h5_own(H5Dopen2(group, kCircuitEdgeScore, H5P_DEFAULT), H5Kind::kDataset,
                      score_where, "open dataset");
  const std::vector<hsize_t> dims = h5_dataset_dims(score.get(), score_where);
  if (dims != std::vector<hsize_t>{senders.size()} || receivers.size() != senders.size()) {
    throw InvalidInput(where.str() + ": sender, receiver and score differ in length");
  }
  std::vector<double> scores(senders.size());
  if (!scores.empty()) {
    h5_check(H5Dread(score.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, scores.data()),
             score_where, "read dataset");
  }
  std::vector<CircuitEdge> edges;
  for (size_t i = 0; i < senders.size(); ++i)
    edges.push_back({senders[i], receivers[i], scores[i]});
  return edges;
}

void write_edges(AnalysisWriter& out, const std::vector<CircuitEdge>& edges) {
  std::vector<std::string> senders, receivers;
  std::vector<double> scores;
  for (const CircuitEdge& edge : edges) {
    senders.push_back(edge.sender);
    receivers.push_back(edge.receiver);
    scores.push_back(edge.score);
  }
  out.write_strings(kCircuitEdgeSender, senders, kDimEdge);
  out.write_strings(kCircuitEdgeReceiver, receivers, kDimEdge);
  out.write_f64(kCircuitEdgeScore, {static_cast<int64_t>(scores.size())}, scores, {kDimEdge});
}

herr_t collect_circuit_name(hid_t, const char* name, const H5L_info_t*, void* names) {
  // No exception may unwind through HDF5's C frames.
  try {
    const std::string text = name;
    if (text.rfind(kPartialRunPrefix, 0) != 0) {
      static_cast<std::vector<std::string>*>(names)->push_back(text);
    }
    return 0;
  } catch (...) {
    return -1;
  }
}

}  // namespace

AnalysisWriter write_circuit(const AnalysisTarget& target, const std::string& name,
                             const Circuit& circuit) {
  HS_ASSERT(circuit.scores.size() == static_cast<size_t>(circuit.head_count()) &&
            circuit.selected.size() == circuit.scores.size());
  if (circuit.n_layers != target.model.n_layers || circuit.n_heads != target.model.n_heads) {
    throw InvalidInput(target.path + ": " + circuit_path(name) + ": a circuit of " +
                       std::to_string(circuit.n_layers) + " x " + std::to_string(circuit.n_heads) +
                       " heads for a model of " + std::to_string(target.model.n_layers) + " x " +
                       std::to_string(target.model.n_heads));
  }
  AnalysisWriter out = AnalysisWriter::begin(target, kCircuitsCollection, name);
  const std::vector<int64_t> shape{circuit.n_layers, circuit.n_heads};
  out.write_f64(kCircuitScores, shape, circuit.scores, {"layer", "head"});
  out.write_array(kCircuitSelected, DType::kU8, shape, circuit.selected.data(), {"layer", "head"});
  if (!circuit.edges.empty()) write_edges(out, circuit.edges);
  out.set_attribute("", kAttrMethod, circuit.method);
  out.set_attribute("", kAttrTask, circuit.task);
  out.set_attribute("", kAttrSelection, circuit.selection.rule);
  out.set_attribute("", kAttrSelectionTopK, circuit.selection.top_k);
  out.set_attribute("", kAttrSelectionThreshold, circuit.selection.threshold);
  out.set_attribute("", kAttrSelectionAbs, circuit.selection.abs ? 1 : 0);
  return out;
}

std::vector<std::string> circuit_names(const std::string& path) {
  const HeadFile opened = open_head_file(path);
  const std::string collection = std::string(kAnalysesGroup) + "/" + kCircuitsCollection;
  const H5Where where{path, collection};
  std::vector<std::string> names;
  if (!exists(opened.file.get(), collection, where)) return names;
  H5Id group = h5_own(H5Gopen2(opened.file.get(), collection.c_str(), H5P_DEFAULT), H5Kind::kGroup,
                      where, "open group");
  h5_check(
      H5Literate(group.get(), H5_INDEX_NAME, H5_ITER_INC, nullptr, collect_circuit_name, &names),
      where, "list circuits");
  std::sort(names.begin(), names.end());
  return names;
}

Circuit read_circuit(const std::string& path, const std::string& name) {
  const HeadFile opened = open_head_file(path);
  const std::string absolute = circuit_path(name);
  const H5Where where{path, absolute};
  if (name.empty() || name.find('/') != std::string::npos ||
      !exists(opened.file.get(), absolute, where)) {
    const std::vector<std::string> names = circuit_names(path);
    throw InvalidInput(path + " has no circuit '" + name + "' (" +
                       (names.empty() ? "it has none" : "it has: " + joined(names)) + ")");
  }
  Circuit circuit;
  circuit.n_layers = opened.n_layers;
  circuit.n_heads = opened.n_heads;
  circuit.scores = read_head_grid<double>(opened, path, absolute + "/" + kCircuitScores, true,
                                          H5T_NATIVE_DOUBLE, "numbers");
  circuit.selected = read_head_grid<uint8_t>(opened, path, absolute + "/" + kCircuitSelected, false,
                                             H5T_NATIVE_UINT8, "integer flags");
  for (uint8_t& flag : circuit.selected) flag = flag != 0 ? 1 : 0;
  H5Id group = h5_own(H5Gopen2(opened.file.get(), absolute.c_str(), H5P_DEFAULT), H5Kind::kGroup,
                      where, "open group");
  circuit.edges = read_edges(group.get(), path, absolute);
  circuit.method = h5_read_string_attribute(group.get(), kAttrMethod, where).value_or("");
  circuit.task = h5_read_string_attribute(group.get(), kAttrTask, where).value_or("");
  CircuitSelection& selection = circuit.selection;
  selection.rule = h5_read_string_attribute(group.get(), kAttrSelection, where).value_or("");
  selection.top_k = h5_read_int_attribute(group.get(), kAttrSelectionTopK, where).value_or(0);
  selection.threshold =
      h5_read_double_attribute(group.get(), kAttrSelectionThreshold, where).value_or(NAN);
  selection.abs = h5_read_int_attribute(group.get(), kAttrSelectionAbs, where).value_or(0) != 0;
  return circuit;
}

Circuit read_head_dataset(const std::string& path, const std::string& dataset) {
  HS_ASSERT(!dataset.empty() && dataset[0] == '/');
  const HeadFile opened = open_head_file(path);
  Circuit circuit;
  circuit.n_layers = opened.n_layers;
  circuit.n_heads = opened.n_heads;
  circuit.scores =
      read_head_grid<double>(opened, path, dataset, true, H5T_NATIVE_DOUBLE, "numbers");
  circuit.selected.assign(circuit.scores.size(), 0);
  circuit.method = dataset;
  return circuit;
}

CircuitSource CircuitSource::parse(const std::string& argument) {
  CircuitSource source;
  const size_t colon = argument.rfind(':');
  if (colon == std::string::npos || std::filesystem::exists(argument)) {
    source.file = argument;
    return source;
  }
  source.file = argument.substr(0, colon);
  const std::string rest = argument.substr(colon + 1);
  if (source.file.empty() || rest.empty() || rest == "/") {
    throw InvalidInput("'" + argument +
                       "': expected FILE, FILE:NAME (a circuit) or FILE:/path/to/dataset");
  }
  (rest[0] == '/' ? source.dataset : source.name) = rest;
  return source;
}

std::string CircuitSource::text() const {
  if (!dataset.empty()) return file + ":" + dataset;
  return name.empty() ? file : file + ":" + name;
}

Circuit load_circuit(CircuitSource& source) {
  if (!source.dataset.empty()) return read_head_dataset(source.file, source.dataset);
  if (source.name.empty()) {
    const std::vector<std::string> names = circuit_names(source.file);
    if (names.size() != 1) {
      throw InvalidInput(
          source.file + (names.empty()
                             ? std::string(" has no circuits (/analyses/circuits); name a per-head "
                                           "dataset as FILE:/path/to/dataset")
                             : " holds " + std::to_string(names.size()) + " circuits (" +
                                   joined(names) + "); name one as FILE:NAME"));
    }
    source.name = names[0];
  }
  return read_circuit(source.file, source.name);
}

}  // namespace headscope
