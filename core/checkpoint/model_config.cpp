#include "core/checkpoint/model_config.h"

#include <sys/stat.h>

#include <array>
#include <cerrno>
#include <cmath>
#include <cstring>

#include <nlohmann/json.hpp>

#include "core/base/error.h"
#include "core/base/json_file.h"
#include "core/base/text_file.h"

namespace headscope {
namespace {

using nlohmann::json;

// Per-family differences in config.json: key spellings and architectural defaults.
struct FamilyRow {
  Family family;
  const char* model_type;
  const char* key_layers;
  const char* key_heads;
  const char* key_d_model;
  const char* key_d_mlp;  // nullptr: 4 * d_model unless given
  const char* key_eps;
  const char* key_positions;
  NormKind norm;
  bool gated_mlp;
  bool qkv_bias;  // default when `attention_bias` is absent
  bool o_bias;
  bool mlp_bias;
  bool qk_norm;
  bool learned_positions;
  bool tied_default;
};

constexpr std::array<FamilyRow, 6> kFamilies = {{
    {Family::kGpt2, "gpt2", "n_layer", "n_head", "n_embd", "n_inner", "layer_norm_epsilon",
     "n_positions", NormKind::kLayerNorm, false, true, true, true, false, true, true},
    {Family::kGptNeox, "gpt_neox", "num_hidden_layers", "num_attention_heads", "hidden_size",
     "intermediate_size", "layer_norm_eps", "max_position_embeddings", NormKind::kLayerNorm, false,
     true, true, true, false, false, false},
    {Family::kLlama, "llama", "num_hidden_layers", "num_attention_heads", "hidden_size",
     "intermediate_size", "rms_norm_eps", "max_position_embeddings", NormKind::kRmsNorm, true,
     false, false, false, false, false, false},
    {Family::kQwen2, "qwen2", "num_hidden_layers", "num_attention_heads", "hidden_size",
     "intermediate_size", "rms_norm_eps", "max_position_embeddings", NormKind::kRmsNorm, true,
     true, false, false, false, false, false},
    {Family::kQwen3, "qwen3", "num_hidden_layers", "num_attention_heads", "hidden_size",
     "intermediate_size", "rms_norm_eps", "max_position_embeddings", NormKind::kRmsNorm, true,
     false, false, false, true, false, false},
    {Family::kMistral, "mistral", "num_hidden_layers", "num_attention_heads", "hidden_size",
     "intermediate_size", "rms_norm_eps", "max_position_embeddings", NormKind::kRmsNorm, true,
     false, false, false, false, false, false},
}};

// Upper bounds of config.json's sizes: far above any published model (Llama 3 405B: 126 layers,
// 128 heads, hidden 16384, intermediate 53248, vocabulary 128256; Llama 4: 10M positions), low
// enough that no product of two or three of them overflows int64_t.
constexpr int64_t kMaxLayers = 4096;
constexpr int64_t kMaxHeads = 4096;
constexpr int64_t kMaxHiddenSize = int64_t{1} << 20;
constexpr int64_t kMaxIntermediateSize = int64_t{1} << 22;
constexpr int64_t kMaxHeadDim = 16384;
constexpr int64_t kMaxVocab = int64_t{1} << 24;
constexpr int64_t kMaxPositions = int64_t{1} << 26;
// A config.json is a few kilobytes; this bounds what a wrong file costs to read.
constexpr size_t kMaxConfigBytes = size_t{16} << 20;

// Reads typed fields and names the file and field on every mistake.
class Fields {
 public:
  Fields(const json& object, std::string label) : object_(object), label_(std::move(label)) {}

  bool has(const char* key) const { return object_.contains(key) && !object_.at(key).is_null(); }

  // An integer in [1, max]. Every size is bounded before anything is allocated from it, and the
  // bounds keep products of sizes (parameter counts, n_heads * d_head) far inside int64_t.
  int64_t size(const char* key, int64_t max) const {
    const json& v = require(key);
    // nlohmann keeps non-negative integers unsigned (negative ones signed, 2.5 and 1e9 as
    // floats); get<int64_t> would wrap those past INT64_MAX.
    const bool in_range = v.is_number_unsigned() && v.get<uint64_t>() >= 1 &&
                          v.get<uint64_t>() <= static_cast<uint64_t>(max);
    if (!in_range) {
      fail(key, ("an integer in [1, " + std::to_string(max) + "]").c_str(), v);
    }
    return v.get<int64_t>();
  }

  int64_t size_or(const char* key, int64_t max, int64_t fallback) const {
    return has(key) ? size(key, max) : fallback;
  }

  double number(const char* key) const {
    const json& v = require(key);
    if (!v.is_number()) fail(key, "a number", v);
    return v.get<double>();
  }

  double number_or(const char* key, double fallback) const {
    return has(key) ? number(key) : fallback;
  }

  bool boolean_or(const char* key, bool fallback) const {
    if (!has(key)) return fallback;
    const json& v = object_.at(key);
    if (!v.is_boolean()) fail(key, "true or false", v);
    return v.get<bool>();
  }

  std::string string_or(const char* key, const std::string& fallback) const {
    if (!has(key)) return fallback;
    const json& v = object_.at(key);
    if (!v.is_string()) fail(key, "a string", v);
    return v.get<std::string>();
  }

  // Token ids may be an integer or a list (Llama 3 lists several eos ids); the first is used.
  std::optional<int64_t> token_id(const char* key) const {
    if (!has(key)) return std::nullopt;
    const json& v = object_.at(key);
    if (v.is_number_integer()) return v.get<int64_t>();
    if (v.is_array() && !v.empty() && v.front().is_number_integer()) {
      return v.front().get<int64_t>();
    }
    fail(key, "an integer or a list of integers", v);
  }

  const json& object(const char* key) const {
    const json& v = require(key);
    if (!v.is_object()) fail(key, "an object", v);
    return v;
  }

  [[noreturn]] void fail(const char* key, const std::string& expected, const json& got) const {
    throw InvalidInput(label_ + ": field '" + key + "' must be " + expected + ", got " +
                       got.dump());
  }

  const std::string& label() const { return label_; }

 private:
  const json& require(const char* key) const {
    if (!has(key)) throw InvalidInput(label_ + ": missing field '" + std::string(key) + "'");
    return object_.at(key);
  }

  const json& object_;
  std::string label_;
};

const FamilyRow& family_row(const std::string& model_type, const std::string& label) {
  for (const auto& row : kFamilies) {
    if (model_type == row.model_type) return row;
  }
  std::string known;
  for (const auto& row : kFamilies) known += std::string(known.empty() ? "" : ", ") + row.model_type;
  throw UnsupportedModel(label + ": model_type '" + model_type + "' is not supported (supported: " +
                         known + ")");
}

Activation parse_activation(const std::string& name, const Fields& fields, const char* key) {
  if (name == "gelu_new" || name == "gelu_pytorch_tanh" || name == "gelu_fast") {
    return Activation::kGeluTanh;
  }
  if (name == "gelu") return Activation::kGeluExact;
  if (name == "silu" || name == "swish") return Activation::kSilu;
  if (name == "relu") return Activation::kRelu;
  fields.fail(key, "one of gelu, gelu_new, gelu_pytorch_tanh, silu, relu", json(name));
}

// Rotary settings: 5.x nests them in `rope_parameters`; 4.x has `rope_theta` and
// `rope_scaling` at the top level (Pythia 4.x: `rotary_emb_base`, `rotary_pct`).
RopeConfig parse_rope(const json& root, const Fields& top) {
  RopeConfig rope;
  rope.theta = top.number_or("rope_theta", top.number_or("rotary_emb_base", rope.theta));
  rope.partial_factor =
      top.number_or("partial_rotary_factor", top.number_or("rotary_pct", rope.partial_factor));
  const char* block_key = top.has("rope_parameters") ? "rope_parameters"
                          : top.has("rope_scaling")  ? "rope_scaling"
                                                     : nullptr;
  if (block_key == nullptr) return rope;
  const json& block = top.object(block_key);
  Fields params(block, top.label() + ": " + block_key);
  rope.theta = params.number_or("rope_theta", rope.theta);
  rope.partial_factor = params.number_or("partial_rotary_factor", rope.partial_factor);
  const std::string type = params.string_or("rope_type", params.string_or("type", "default"));
  if (type == "default") {
    rope.scaling = RopeScaling::kNone;
  } else if (type == "linear") {
    rope.scaling = RopeScaling::kLinear;
    rope.factor = params.number("factor");
  } else if (type == "llama3") {
    rope.scaling = RopeScaling::kLlama3;
    rope.factor = params.number("factor");
    rope.low_freq_factor = params.number("low_freq_factor");
    rope.high_freq_factor = params.number("high_freq_factor");
    rope.original_max_positions = params.size("original_max_position_embeddings", kMaxPositions);
  } else {
    throw UnsupportedModel(params.label() + ": rope_type '" + type +
                           "' is not supported (supported: default, linear, llama3)");
  }
  if (!(rope.theta > 0) || !(rope.partial_factor > 0 && rope.partial_factor <= 1) ||
      !(rope.factor > 0)) {
    throw InvalidInput(top.label() +
                       ": rope_theta and factor must be positive and partial_rotary_factor in "
                       "(0, 1]");
  }
  return rope;
}

DType parse_dtype(const Fields& fields) {
  const char* key = fields.has("dtype") ? "dtype" : "torch_dtype";
  const std::string name = fields.string_or(key, "float32");
  if (name == "float32") return DType::kF32;
  if (name == "float16") return DType::kF16;
  if (name == "bfloat16") return DType::kBF16;
  fields.fail(key, "float32, float16 or bfloat16", json(name));
}

}  // namespace

int64_t ModelConfig::rotary_dims() const {
  if (learned_positions) return 0;
  return static_cast<int64_t>(static_cast<double>(d_head) * rope.partial_factor);
}

const char* family_name(Family family) {
  for (const auto& row : kFamilies) {
    if (row.family == family) return row.model_type;
  }
  HS_ASSERT(false && "family missing from kFamilies");
}

ModelConfig parse_model_config(const std::string& json_text, const std::string& file_label) {
  json root = parse_json(json_text, file_label);
  if (!root.is_object()) throw InvalidInput(file_label + ": expected a JSON object");
  Fields fields(root, file_label);

  ModelConfig c;
  c.json_text = json_text;
  c.model_type = fields.string_or("model_type", "");
  if (c.model_type.empty()) throw InvalidInput(file_label + ": missing field 'model_type'");
  const FamilyRow& row = family_row(c.model_type, file_label);
  c.family = row.family;
  c.norm = row.norm;
  c.gated_mlp = row.gated_mlp;
  c.qk_norm = row.qk_norm;
  c.learned_positions = row.learned_positions;

  c.n_layers = fields.size(row.key_layers, kMaxLayers);
  c.n_heads = fields.size(row.key_heads, kMaxHeads);
  c.d_model = fields.size(row.key_d_model, kMaxHiddenSize);
  c.n_kv_heads = fields.size_or("num_key_value_heads", c.n_heads, c.n_heads);
  c.d_mlp = fields.size_or(row.key_d_mlp, kMaxIntermediateSize, 4 * c.d_model);
  c.vocab_size = fields.size("vocab_size", kMaxVocab);
  c.max_positions = fields.size_or(row.key_positions, kMaxPositions, 2048);
  c.norm_eps = fields.number_or(row.key_eps, c.norm_eps);
  if (!(c.norm_eps > 0 && c.norm_eps < 1)) {
    fields.fail(row.key_eps, "a number in (0, 1)", json(c.norm_eps));
  }
  c.tied_embeddings = fields.boolean_or("tie_word_embeddings", row.tied_default);
  c.qkv_bias = fields.boolean_or("attention_bias", row.qkv_bias);
  c.o_bias = c.family == Family::kGptNeox ? c.qkv_bias : row.o_bias;
  c.mlp_bias = fields.boolean_or("mlp_bias", row.mlp_bias);
  c.parallel_residual = fields.boolean_or("use_parallel_residual", false);
  c.bos_token_id = fields.token_id("bos_token_id");
  c.eos_token_id = fields.token_id("eos_token_id");
  c.dtype = parse_dtype(fields);

  const char* act_key = c.family == Family::kGpt2 ? "activation_function" : "hidden_act";
  c.activation = parse_activation(
      fields.string_or(act_key, c.family == Family::kGpt2 ? "gelu_new" : "silu"), fields, act_key);

  if (c.n_heads % c.n_kv_heads != 0) {
    throw InvalidInput(file_label + ": num_attention_heads (" + std::to_string(c.n_heads) +
                       ") must be a multiple of num_key_value_heads (" +
                       std::to_string(c.n_kv_heads) + ")");
  }
  if (fields.has("head_dim")) {
    c.d_head = fields.size("head_dim", kMaxHeadDim);
  } else {
    if (c.d_model % c.n_heads != 0) {
      throw InvalidInput(file_label + ": hidden size " + std::to_string(c.d_model) +
                         " is not a multiple of the head count " + std::to_string(c.n_heads) +
                         " and no head_dim is given");
    }
    c.d_head = c.d_model / c.n_heads;
  }
  if (!c.learned_positions) {
    c.rope = parse_rope(root, fields);
    if (c.rotary_dims() % 2 != 0 || c.rotary_dims() == 0) {
      throw InvalidInput(file_label + ": rotary dimensions (head_dim x partial_rotary_factor = " +
                         std::to_string(c.rotary_dims()) + ") must be even and positive");
    }
  }
  if (c.family == Family::kMistral && fields.has("sliding_window")) {
    c.sliding_window = fields.size("sliding_window", kMaxPositions);
  }
  if (c.family == Family::kQwen2 || c.family == Family::kQwen3) {
    if (fields.boolean_or("use_sliding_window", false)) {
      throw UnsupportedModel(file_label +
                             ": use_sliding_window=true (per-layer sliding windows) is not "
                             "supported yet");
    }
  }
  return c;
}

ModelConfig load_model_config(const std::string& dir) {
  const std::string path = dir + "/config.json";
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    throw IoError(dir + ": cannot open model directory: " + std::strerror(errno));
  }
  if (!S_ISDIR(st.st_mode)) throw IoError(dir + ": not a model directory");
  // read_text_file refuses what is not a regular file (a directory, /dev/zero, a FIFO) and names
  // the path with the system's reason (a symlink loop, no permission).
  const std::string text = read_text_file(path);
  if (text.size() > kMaxConfigBytes) {
    throw InvalidInput(path + ": " + std::to_string(text.size()) + " bytes; a config.json " +
                       "has at most " + std::to_string(kMaxConfigBytes));
  }
  return parse_model_config(text, path);
}

}  // namespace headscope
