// The HDF5 group of an activation-patching sweep, /analyses/activation_patching/<hook> (layout in
// docs/CIRCUITS.md and docs/FORMAT.md): the normalised scores over the patched components, each
// pair's metric, the unpatched runs' metrics, the pairs' tokens, every parameter as attributes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "analyses/circuits/activation_patching.h"
#include "analyses/circuits/task_pairs.h"
#include "core/store/analysis_writer.h"

namespace headscope {

inline constexpr char kActivationPatchingCollection[] = "activation_patching";

// Where the pairs came from, recorded beside the result.
struct PatchingSource {
  std::string task;     // "" for a dataset file
  std::string dataset;  // the --dataset path, "" for a task
  int64_t length = 0;   // task samples' --length
  uint64_t seed = 0;    // task samples' first seed
};

// The pairs on a `sample` axis: clean and corrupted tokens, answer, distractor, scored position
// (the same datasets in every patching group: activation and path patching).
void write_patching_pairs(AnalysisWriter& out, const std::vector<PatchingPair>& pairs);

struct PatchingRun {
  std::string device;
  std::string dtype;
};

void write_activation_patching(const AnalysisTarget& target, const PatchingResult& result,
                               const PatchingOptions& options,
                               const std::vector<PatchingPair>& pairs, const PatchingSource& source,
                               const PatchingRun& run);

}  // namespace headscope
