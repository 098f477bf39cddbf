// A path-patching circuit as /analyses/circuits/<name> (docs/CIRCUITS.md, "Path patching";
// docs/FORMAT.md): the circuit file's scores, selected and edges (analyses/circuits/
// circuit_file.h), plus each head's stage, every stage's scores and per-pair metrics, the pairs,
// and every parameter as attributes.
#pragma once

#include <string>
#include <vector>

#include "analyses/circuits/patching_output.h"
#include "analyses/circuits/path_patching.h"
#include "core/store/analysis_writer.h"

namespace headscope {

// What produced the circuit, recorded beside it.
struct PathPatchingSettings {
  PathCircuitOptions options;
  std::string receivers;  // the --receivers text as given
  PatchingSource source;
  PatchingRun run;
};

// The circuit file's view of a path-patching circuit: scores = each head's stage score of the
// largest magnitude, selected = the heads of every stage, edges with their scores, selection
// threshold (|score|) or top_fraction.
Circuit path_circuit_as_circuit(const PathCircuit& circuit, const PathCircuitOptions& options,
                                const std::string& task);

void write_path_patching(const AnalysisTarget& target, const std::string& name,
                         const PathCircuit& circuit, const std::vector<PatchingPair>& pairs,
                         const PathPatchingSettings& settings);

}  // namespace headscope
