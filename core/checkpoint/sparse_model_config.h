// headscope's own per-head sparse-attention config: one SparseHeadConfig per (layer, query
// head), the form kernels/sparse_attention.h executes (no LibTorch here: the explorer exports it),
// and its JSON file (sparse_config.json):
//
//   {"format": "headscope-sparse", "version": 1, "n_layers": L, "n_heads": H,
//    "heads": [[{"kind": "full"}, {"kind": "streaming", "sink": 4, "window": 64},
//               {"kind": "block_sparse", "block_size": 64, "topk_blocks": 4}, ...], ...],
//    "parameters": {...how it was derived...}}
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/base/sparse_head_config.h"
#include "core/checkpoint/model_config.h"

namespace headscope {

struct SparseModelConfig {
  int64_t n_layers = 0;
  int64_t n_heads = 0;
  std::vector<std::vector<SparseHeadConfig>> heads;                      // [layer][query head]
  nlohmann::ordered_json parameters = nlohmann::ordered_json::object();  // provenance

  // Every head full.
  static SparseModelConfig dense(int64_t n_layers, int64_t n_heads);
  // Fraction of heads that are not full.
  double sparse_head_fraction() const;
};

// The same head configs moved to uniformly random (layer, head) slots: a random config with
// exactly as many heads of each kind, to compare a score-driven choice against.
SparseModelConfig shuffled_config(const SparseModelConfig& config, uint64_t seed);

// "full", "streaming", "block_sparse": the kind's name in configs, attributes and options.
const char* sparse_kind_name(SparseKind kind);

inline constexpr const char* kSparseConfigFile = "sparse_config.json";

nlohmann::ordered_json sparse_config_to_json(const SparseModelConfig& config);
// InvalidInput naming `source` and the field (heads[2][5].window, ...) on malformed input.
SparseModelConfig sparse_config_from_json(const nlohmann::json& json, const std::string& source);

// Writes through a temporary name and renames on success; IoError when it cannot.
void write_sparse_config(const std::string& path, const SparseModelConfig& config);
// IoError when unreadable, InvalidInput when not valid JSON or not a headscope sparse config.
SparseModelConfig read_sparse_config(const std::string& path);

// InvalidInput naming `source` when the config's layers or heads differ from the model's.
void check_config_matches_model(const SparseModelConfig& config, const ModelConfig& model,
                                const std::string& source);

}  // namespace headscope
