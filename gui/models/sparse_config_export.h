// A config of a sparse-eval analysis (/analyses/sparse_eval) written in the formats
// `headscope sparse-config` writes, through the same writers (core/checkpoint): headscope's
// sparse_config.json and DuoAttention's files run by `headscope sparse-eval --config DIR`. MoA
// and MInference configs are fitted to attention statistics, which a sparse-eval file does not
// hold: `headscope sparse-config RECORDING --format moa|minference` writes them, run by the
// explorer through gui/models/sparse_config_run.h.
#pragma once

#include <string>
#include <vector>

#include "core/checkpoint/sparse_config_files.h"
#include "core/checkpoint/sparse_model_config.h"
#include "gui/models/sparse_eval_configs.h"

namespace headscope::gui {

// Config `config` as the executable config sparse-eval ran: each head's kind and parameters;
// parameters {"input": the file, "analysis": "/analyses/sparse_eval", "config": its name}.
// InvalidInput naming the file and head for a kind code other than head_kind's.
SparseModelConfig sparse_eval_config(const SparseEvalConfigs& configs, size_t config);

// Whether a config can be written in `format` from a sparse-eval file (headscope and duo), and
// why not otherwise.
bool exportable_format(SparseFormat format);
std::string unexportable_reason(SparseFormat format);

// Writes config `config` in `format` into `dir` (created when missing); returns the written
// paths. InvalidInput for MoA and MInference, and for a config DuoAttention cannot express
// (duo_config_of's messages); IoError when a file cannot be written.
std::vector<std::string> export_sparse_eval_config(const SparseEvalConfigs& configs, size_t config,
                                                   SparseFormat format, const std::string& dir);

}  // namespace headscope::gui
