// The sparse-attention config formats `headscope sparse-config` writes (docs/SPARSE_CONFIGS.md),
// and DuoAttention's files as plain data: written by the sparse-config command from its scores
// and by the explorer from a config a file holds, read back as an executable config by
// sparse-eval. No LibTorch: the explorer links this.
//   duo         full_attention_heads.tsv + config.json (DuoAttention)
//   moa         moa_alpha_beta.json + opt_alpha_beta.csv (MoA)
//   minference  minference_best_pattern.json (MInference)
//   headscope   sparse_config.json (core/checkpoint/sparse_model_config.h)
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/checkpoint/model_config.h"
#include "core/checkpoint/sparse_model_config.h"

namespace headscope {

enum class SparseFormat { kDuo, kMoa, kMInference, kHeadscope };

inline const std::vector<SparseFormat> kSparseFormats = {
    SparseFormat::kDuo, SparseFormat::kMoa, SparseFormat::kMInference, SparseFormat::kHeadscope};
const char* sparse_format_name(SparseFormat format);

inline constexpr char kDuoGatesFile[] = "full_attention_heads.tsv";
inline constexpr char kDuoConfigFile[] = "config.json";
inline constexpr char kMoaFile[] = "moa_alpha_beta.json";
inline constexpr char kMoaProfileFile[] = "opt_alpha_beta.csv";
inline constexpr char kMInferenceFile[] = "minference_best_pattern.json";

struct DuoConfig {
  std::vector<std::vector<double>> gates;  // [layer][KV head] in [0, 1]; > 0.5: full attention
  int64_t sink_size = 0, recent_size = 0;  // the streaming heads' sink and window
  std::optional<double> sparsity;          // the fraction gated 0, when the gates are 0/1
  nlohmann::ordered_json provenance = nlohmann::ordered_json::object();  // "headscope" entry
};

// Writes full_attention_heads.tsv (gates as %.18e, tab-separated) and config.json into `dir`
// (which must exist), each through a temporary name; returns the two paths.
std::vector<std::string> write_duo_config(const std::string& dir, const DuoConfig& config);

// The executable config of a DuoAttention directory: gates > 0.5 full, the rest streaming
// (sink_size, recent_size) for every query head of the KV head. InvalidInput naming the file
// and row when it does not fit the model.
SparseModelConfig read_duo_config(const std::string& dir, const ModelConfig& model);

// A headscope config in DuoAttention's form: gate 1 for a KV head whose query heads are full, 0
// for one whose query heads all stream with the sink and window every streaming head shares.
// InvalidInput naming `source` and the head for anything DuoAttention cannot say (a block-sparse
// head, streaming heads with different windows, a KV head with full and streaming query heads,
// no streaming head).
DuoConfig duo_config_of(const SparseModelConfig& config, int64_t n_kv_heads,
                        const std::string& source);

// The format of the config a folder `headscope sparse-config --out DIR` wrote, found by its
// files: sparse_config.json, full_attention_heads.tsv, moa_alpha_beta.json or
// minference_best_pattern.json. IoError when `dir` is not a folder, InvalidInput naming it when
// it holds none of them.
SparseFormat sparse_config_folder_format(const std::string& dir);

// The config such a folder holds, in the executable form, checked against the model:
// sparse_config.json as is; DuoAttention's files with gates > 0.5 full and the rest streaming
// (sink_size, recent_size) for every query head of the KV head. MoA and MInference files are
// rejected: their patterns are not what kernels/sparse_attention.h runs.
SparseModelConfig read_executable_config(const std::string& dir, const ModelConfig& model);

}  // namespace headscope
