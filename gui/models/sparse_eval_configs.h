// The sparse-attention configs of a file's sparse-eval analysis (/analyses/sparse_eval,
// docs/FORMAT.md): per config, each head's kind and parameters (what `headscope sparse-config`
// wrote and sparse-eval ran), the fraction of heads made sparse, and per config and length the
// kept fraction of causal attention entries and the accuracy. Read whole: C x L x H numbers.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gui/models/head_values.h"
#include "gui/models/open_file.h"

namespace headscope::gui {

inline constexpr char kSparseEvalPath[] = "/analyses/sparse_eval";

struct SparseEvalConfigs {
  // The per-head fields, in the order the view offers them.
  enum Field { kKind, kBlockSize, kTopkBlocks, kSink, kWindow, kFieldCount };

  std::string path;                        // the file's (or the folder's: sparse_config_folder.h)
  std::string analysis = kSparseEvalPath;  // the group read; empty for a folder
  std::vector<std::string> names;          // [C]: "dense", "retrieval@50.0%", ...
  std::vector<double> lengths;             // [N] tokens
  int64_t layers = 0, heads = 0;
  int64_t kv_heads = 0;    // the model's (root attribute n_kv_heads): DuoAttention gates them
  std::string kind_codes;  // head_kind's `codes`: "0 full, 1 streaming, ..."
  std::vector<double> fields[kFieldCount];      // each [C, L, H]
  std::vector<double> sparse_heads;             // [C]
  std::vector<double> kept_fraction, accuracy;  // [C, N]

  // One config's field as a [layer, head] grid, labelled "sparse_eval/<config>: <field>".
  HeadValues head_field(size_t config, Field field) const;
  double kept(size_t config, size_t length) const {
    return kept_fraction[config * lengths.size() + length];
  }
  double accuracy_at(size_t config, size_t length) const {
    return accuracy[config * lengths.size() + length];
  }
};

// "kind", "block size", ...: the field's name in the view and the grid's label.
const char* sparse_field_name(SparseEvalConfigs::Field field);

// Metadata only; takes hdf5_lock().
bool has_sparse_eval_configs(const OpenFile& file);
// Takes hdf5_lock(). IoError or InvalidInput naming the file and dataset when one is missing or
// of another shape than docs/FORMAT.md gives.
SparseEvalConfigs read_sparse_eval_configs(const OpenFile& file);

}  // namespace headscope::gui
