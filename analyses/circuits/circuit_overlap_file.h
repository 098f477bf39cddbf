// The overlap of C circuits on disk: /analyses/circuit_overlap (core/store/circuit_schema.h,
// docs/FORMAT.md), every ordered pair as [C, C] datasets with dimensions circuit_a and
// circuit_b, whose string scales hold the circuits' labels.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "analyses/circuits/circuit.h"
#include "analyses/circuits/circuit_overlap.h"
#include "core/store/analysis_writer.h"

namespace headscope {

// One compared circuit as the analysis records it.
struct OverlapEntry {
  std::string label;   // the scale value (unique)
  std::string source;  // the argument it came from: FILE:NAME or FILE:/dataset
  int64_t size = 0;    // heads selected
};

// The overlap of every ordered pair [a][b] of `circuits` (same head grid): computed once per
// unordered pair and mirrored (sizes and containments swapped; the rest is symmetric).
std::vector<std::vector<CircuitOverlap>> overlap_matrix(const std::vector<const Circuit*>& circuits,
                                                        const OverlapOptions& options);

// Writes /analyses/circuit_overlap into the target and commits it. `selection`: the rule the
// command applied to every input, or none when circuits kept their own.
void write_circuit_overlap(const AnalysisTarget& target, const std::vector<OverlapEntry>& entries,
                           const std::vector<std::vector<CircuitOverlap>>& matrix,
                           const OverlapOptions& options,
                           const std::optional<CircuitSelection>& selection);

}  // namespace headscope
