// Circuits on disk (/analyses/circuits/<name>, core/store/circuit_schema.h) and the per-head
// datasets of any analysis ([layer, head] scores such as /analyses/head_importance/importance),
// read as circuits so that `headscope overlap` compares circuits of every origin.
//
//   Circuit c = ...;  // scores, selected, method, task, selection
//   AnalysisWriter out = write_circuit({"run.h5", summary, OutputMode::kAppend}, "ioi", c);
//   out.set_attribute("", "steps", 5);  // the method's parameters
//   out.commit();
#pragma once

#include <string>
#include <vector>

#include "analyses/circuits/circuit.h"
#include "core/store/analysis_writer.h"

namespace headscope {

// Stages /analyses/circuits/<name> in the target: scores and selected [layer, head], edges when
// the circuit has any, and the attributes method, task, selection, top_k, threshold and abs.
// Returns the writer uncommitted, for the method's own parameters; commit() publishes it,
// keeping the file's other circuits. InvalidInput when the circuit's shape is not the model's.
AnalysisWriter write_circuit(const AnalysisTarget& target, const std::string& name,
                             const Circuit& circuit);

// The committed circuits of a recording, sorted; empty when it has none. IoError when the file
// cannot be opened; InvalidInput when it is not a headscope recording.
std::vector<std::string> circuit_names(const std::string& path);

// /analyses/circuits/<name> of a recording. InvalidInput naming the file and object when the
// circuit is missing (listing those there are), or a dataset is missing, of another type or not
// shaped as the recorded model's [n_layers, n_heads].
Circuit read_circuit(const std::string& path, const std::string& name);

// A per-head dataset (an absolute path) of a recording as a circuit with scores only (nothing
// selected; method: the dataset's path): any integer or floating type, shaped [n_layers,
// n_heads] of the recorded model. InvalidInput naming the file and dataset otherwise.
Circuit read_head_dataset(const std::string& path, const std::string& dataset);

// A command-line circuit argument: FILE (its only circuit), FILE:NAME (a circuit) or
// FILE:/path/to/dataset (a per-head dataset). An argument naming an existing file is that file
// whole, so a path holding ':' still works.
struct CircuitSource {
  std::string file;
  std::string name;     // "" with an empty dataset: the file's only circuit
  std::string dataset;  // absolute path, or ""

  static CircuitSource parse(const std::string& argument);
  // "FILE:NAME" or "FILE:/dataset", with the name the file's only circuit resolved to.
  std::string text() const;
};

// The circuit or dataset the source names; a source without a name takes the file's only
// circuit and records its name. InvalidInput naming the file when it has no circuit, several
// (listing them), or not the one named.
Circuit load_circuit(CircuitSource& source);

}  // namespace headscope
