// Model hyper-parameters read from a Hugging Face config.json, for every supported family.
// Both config dialects are read: transformers 4.x (`rope_theta`, `rope_scaling` at top level)
// and 5.x (`rope_parameters`).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/base/dtype.h"

namespace headscope {

// Adding a family: a value here, its row in kFamilies (core/checkpoint/model_config.cpp) and a
// parity fixture (docs/DEVELOPING.md).
enum class Family : uint8_t { kGpt2, kGptNeox, kLlama, kQwen2, kQwen3, kMistral };
// How a family names its tensors in a checkpoint: one name list per value in
// core/model/model_weights.cpp. Most families use Llama's.
enum class TensorNaming : uint8_t { kGpt2, kGptNeox, kLlama };
enum class NormKind : uint8_t { kLayerNorm, kRmsNorm };
enum class Activation : uint8_t { kGeluTanh, kGeluExact, kSilu, kRelu };

// How rotary frequencies are scaled (`rope_type`).
enum class RopeScaling : uint8_t { kNone, kLinear, kLlama3 };

struct RopeConfig {
  double theta = 10000.0;
  double partial_factor = 1.0;  // fraction of d_head that rotates (Pythia: 0.25)
  RopeScaling scaling = RopeScaling::kNone;
  double factor = 1.0;
  double low_freq_factor = 1.0;   // llama3
  double high_freq_factor = 4.0;  // llama3
  int64_t original_max_positions = 8192;  // llama3
};

struct ModelConfig {
  Family family = Family::kLlama;
  std::string model_type;
  int64_t n_layers = 0;
  int64_t n_heads = 0;
  int64_t n_kv_heads = 0;
  int64_t d_model = 0;
  int64_t d_head = 0;
  int64_t d_mlp = 0;
  int64_t vocab_size = 0;
  int64_t max_positions = 0;
  double norm_eps = 1e-5;
  NormKind norm = NormKind::kRmsNorm;
  Activation activation = Activation::kSilu;
  bool gated_mlp = true;
  bool qkv_bias = false;
  bool o_bias = false;
  bool mlp_bias = false;
  bool qk_norm = false;
  bool parallel_residual = false;
  bool learned_positions = false;  // GPT-2; everything else uses rotary
  bool tied_embeddings = false;
  std::optional<int64_t> sliding_window;  // keys older than this many positions are masked
  RopeConfig rope;
  DType dtype = DType::kF32;
  std::optional<int64_t> bos_token_id;
  std::optional<int64_t> eos_token_id;
  std::string json_text;  // config.json as read, stored in recordings

  int64_t rotary_dims() const;
  int64_t kv_group_size() const { return n_heads / n_kv_heads; }
};

const char* family_name(Family family);
TensorNaming tensor_naming(Family family);

// Parses config.json text; `file_label` names the file in errors.
ModelConfig parse_model_config(const std::string& json_text, const std::string& file_label);

// Reads `<dir>/config.json`.
ModelConfig load_model_config(const std::string& dir);

}  // namespace headscope
