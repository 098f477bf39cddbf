// `headscope sparse-eval --out FILE.h5`: the results as /analyses/sparse_eval (layout in
// docs/FORMAT.md), every parameter an attribute, axes named by dimension scales:
//
//   config [C] (the configs' names), length [N] (context lengths in tokens),
//   accuracy, token_accuracy, kept_fraction float64 [config, length],
//   sparse_heads float64 [config],
//   head_kind int32 [config, layer, head] (0 full, 1 streaming, 2 block_sparse),
//   head_sink, head_window, head_block_size, head_topk_blocks int64 [config, layer, head]
//   (0 where the head's kind has no such field).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "analyses/sparse/sparse_eval.h"
#include "core/store/analysis_writer.h"

namespace headscope {

inline constexpr char kSparseEvalGroup[] = "sparse_eval";

// What the command was given beyond SparseEvalOptions: where the configs came from and how the
// model ran.
struct SparseEvalSources {
  std::string model_path;
  std::string config_dir;          // --config ("" when none)
  std::string scores;              // --scores ("" when none)
  std::vector<double> sparsities;  // --sparsity
  int64_t random = 0;              // random twins per evaluated config
  std::string score = "auto";      // what ranked the heads of --scores
  std::string kind = "streaming";  // sparse heads derived from --scores
  double tail = 1.0;
  // -1: not given, taken from the recording's statistics (sink, recent) or the default.
  int64_t sink = -1;
  int64_t recent = -1;
  int64_t block_size = -1;
  int64_t topk_blocks = 4;
  std::string device = "cpu";
  std::string dtype = "auto";
};

// Writes (or replaces) /analyses/sparse_eval in `path`, creating the file when missing
// (core/store/analysis_writer.h). `result` holds configs.size() x options.lengths.size() rows, config-
// major, as evaluate_sparse_configs returns them.
void write_sparse_eval(const AnalysisTarget& target, const std::vector<NamedSparseConfig>& configs,
                       const SparseEvalResult& result, const SparseEvalOptions& options,
                       const SparseEvalSources& sources);

}  // namespace headscope
