// A folder `headscope sparse-config --out DIR` wrote, as the sparse-config view shows configs:
// headscope's sparse_config.json, or DuoAttention's full_attention_heads.tsv and config.json
// (gates per KV head, expanded to the query heads of the model the view has open). One config,
// named for its format, with no lengths (nothing was run).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "gui/models/sparse_eval_configs.h"

namespace headscope::gui {

struct ModelShape {
  int64_t layers = 0, heads = 0, kv_heads = 0;
};

// `model`: of a file the explorer has open; DuoAttention's gates need it (which query heads
// share a KV head), and a headscope config of its shape takes its KV heads (for exporting to
// DuoAttention; 0 otherwise). IoError when `dir` is not a readable folder; InvalidInput naming
// the folder (or file and field) when it holds no config the view shows (MoA's and MInference's
// files are fitted patterns, not per-head kinds), a malformed one, or DuoAttention's without a
// model of its shape.
SparseEvalConfigs read_sparse_config_folder(const std::string& dir,
                                            const std::optional<ModelShape>& model);

}  // namespace headscope::gui
