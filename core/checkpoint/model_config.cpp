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

// Whether the attention output projection has a bias.
enum class OutBias : uint8_t { kNone, kAlways, kAsQkv /* follows `attention_bias` */ };

// config.json's spellings of the model's sizes.
struct SizeKeys {
  const char* layers = "num_hidden_layers";
  const char* heads = "num_attention_heads";
  const char* d_model = "hidden_size";
  const char* d_mlp = "intermediate_size";  // absent: 4 * d_model
  const char* positions = "max_position_embeddings";
};

constexpr SizeKeys kGpt2SizeKeys = [] {
  SizeKeys k;
  k.layers = "n_layer";
  k.heads = "n_head";
  k.d_model = "n_embd";
  k.d_mlp = "n_inner";
  k.positions = "n_positions";
  return k;
}();

// Everything that differs between families when config.json is read: key spellings,
// architectural constants, defaults of keys the file may omit (Hugging Face's), keys only some
// families read. The member initialisers are Llama's conventions, which most families share; a
// row in kFamilies names only what differs.
struct FamilyRow {
  Family family;
  const char* model_type;
  TensorNaming naming;
  SizeKeys size_keys;
  const char* key_eps = "rms_norm_eps";
  const char* key_activation = "hidden_act";
  const char* default_activation = "silu";
  NormKind norm = NormKind::kRmsNorm;
  bool gated_mlp = true;
  bool qkv_bias = false;  // default of `attention_bias`
  OutBias o_bias = OutBias::kAsQkv;
  bool mlp_bias = false;  // default of `mlp_bias`
  bool qk_norm = false;
  bool learned_positions = false;
  bool tied_embeddings = false;    // default of `tie_word_embeddings`
  bool parallel_residual = false;  // default of `use_parallel_residual`
  const char* key_sliding_window = nullptr;  // nullptr: the family has no sliding window
  // A boolean key that, when true, asks for what headscope does not support, and what that is.
  const char* key_refused = nullptr;
  const char* refused_what = nullptr;

  constexpr FamilyRow(Family f, const char* type, TensorNaming n)
      : family(f), model_type(type), naming(n) {}

  constexpr FamilyRow with_size_keys(SizeKeys v) const { return set(&FamilyRow::size_keys, v); }
  constexpr FamilyRow with_eps_key(const char* v) const { return set(&FamilyRow::key_eps, v); }
  constexpr FamilyRow with_activation(const char* key, const char* fallback) const {
    return set(&FamilyRow::key_activation, key).set(&FamilyRow::default_activation, fallback);
  }
  constexpr FamilyRow with_norm(NormKind v) const { return set(&FamilyRow::norm, v); }
  constexpr FamilyRow with_gated_mlp(bool v) const { return set(&FamilyRow::gated_mlp, v); }
  constexpr FamilyRow with_qkv_bias(bool v) const { return set(&FamilyRow::qkv_bias, v); }
  constexpr FamilyRow with_o_bias(OutBias v) const { return set(&FamilyRow::o_bias, v); }
  constexpr FamilyRow with_mlp_bias(bool v) const { return set(&FamilyRow::mlp_bias, v); }
  constexpr FamilyRow with_qk_norm(bool v) const { return set(&FamilyRow::qk_norm, v); }
  constexpr FamilyRow with_learned_positions(bool v) const {
    return set(&FamilyRow::learned_positions, v);
  }
  constexpr FamilyRow with_tied_embeddings(bool v) const {
    return set(&FamilyRow::tied_embeddings, v);
  }
  constexpr FamilyRow with_parallel_residual(bool v) const {
    return set(&FamilyRow::parallel_residual, v);
  }
  constexpr FamilyRow with_sliding_window_key(const char* v) const {
    return set(&FamilyRow::key_sliding_window, v);
  }
  constexpr FamilyRow with_refused(const char* key, const char* what) const {
    return set(&FamilyRow::key_refused, key).set(&FamilyRow::refused_what, what);
  }

 private:
  template <typename T>
  constexpr FamilyRow set(T FamilyRow::*field, T value) const {
    FamilyRow row = *this;
    row.*field = value;
    return row;
  }
};

constexpr std::array<FamilyRow, 6> kFamilies = {{
    FamilyRow(Family::kGpt2, "gpt2", TensorNaming::kGpt2)
        .with_size_keys(kGpt2SizeKeys)
        .with_eps_key("layer_norm_epsilon")
        .with_activation("activation_function", "gelu_new")
        .with_norm(NormKind::kLayerNorm)
        .with_gated_mlp(false)
        .with_qkv_bias(true)
        .with_o_bias(OutBias::kAlways)
        .with_mlp_bias(true)
        .with_learned_positions(true)
        .with_tied_embeddings(true),
    FamilyRow(Family::kGptNeox, "gpt_neox", TensorNaming::kGptNeox)
        .with_eps_key("layer_norm_eps")
        .with_activation("hidden_act", "gelu")
        .with_norm(NormKind::kLayerNorm)
        .with_gated_mlp(false)
        .with_qkv_bias(true)
        .with_mlp_bias(true)
        .with_parallel_residual(true),
    FamilyRow(Family::kLlama, "llama", TensorNaming::kLlama),
    FamilyRow(Family::kQwen2, "qwen2", TensorNaming::kLlama)
        .with_qkv_bias(true)
        .with_o_bias(OutBias::kNone)
        .with_refused("use_sliding_window", "per-layer sliding windows"),
    FamilyRow(Family::kQwen3, "qwen3", TensorNaming::kLlama)
        .with_qk_norm(true)
        .with_refused("use_sliding_window", "per-layer sliding windows"),
    FamilyRow(Family::kMistral, "mistral", TensorNaming::kLlama)
        .with_o_bias(OutBias::kNone)
        .with_sliding_window_key("sliding_window"),
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

const FamilyRow& row_of(Family family) {
  for (const auto& row : kFamilies) {
    if (row.family == family) return row;
  }
  HS_ASSERT(false && "family missing from kFamilies");
}

const FamilyRow& row_of_type(const std::string& model_type, const std::string& label) {
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

const char* family_name(Family family) { return row_of(family).model_type; }

TensorNaming tensor_naming(Family family) { return row_of(family).naming; }

ModelConfig parse_model_config(const std::string& json_text, const std::string& file_label) {
  json root = parse_json(json_text, file_label);
  if (!root.is_object()) throw InvalidInput(file_label + ": expected a JSON object");
  Fields fields(root, file_label);

  ModelConfig c;
  c.json_text = json_text;
  c.model_type = fields.string_or("model_type", "");
  if (c.model_type.empty()) throw InvalidInput(file_label + ": missing field 'model_type'");
  const FamilyRow& row = row_of_type(c.model_type, file_label);
  c.family = row.family;
  c.norm = row.norm;
  c.gated_mlp = row.gated_mlp;
  c.qk_norm = row.qk_norm;
  c.learned_positions = row.learned_positions;

  const SizeKeys& keys = row.size_keys;
  c.n_layers = fields.size(keys.layers, kMaxLayers);
  c.n_heads = fields.size(keys.heads, kMaxHeads);
  c.d_model = fields.size(keys.d_model, kMaxHiddenSize);
  c.n_kv_heads = fields.size_or("num_key_value_heads", c.n_heads, c.n_heads);
  c.d_mlp = fields.size_or(keys.d_mlp, kMaxIntermediateSize, 4 * c.d_model);
  c.vocab_size = fields.size("vocab_size", kMaxVocab);
  c.max_positions = fields.size_or(keys.positions, kMaxPositions, 2048);
  c.norm_eps = fields.number_or(row.key_eps, c.norm_eps);
  if (!(c.norm_eps > 0 && c.norm_eps < 1)) {
    fields.fail(row.key_eps, "a number in (0, 1)", json(c.norm_eps));
  }
  c.tied_embeddings = fields.boolean_or("tie_word_embeddings", row.tied_embeddings);
  c.qkv_bias = fields.boolean_or("attention_bias", row.qkv_bias);
  c.o_bias = row.o_bias == OutBias::kAsQkv ? c.qkv_bias : row.o_bias == OutBias::kAlways;
  c.mlp_bias = fields.boolean_or("mlp_bias", row.mlp_bias);
  c.parallel_residual = fields.boolean_or("use_parallel_residual", row.parallel_residual);
  c.bos_token_id = fields.token_id("bos_token_id");
  c.eos_token_id = fields.token_id("eos_token_id");
  c.dtype = parse_dtype(fields);
  c.activation = parse_activation(fields.string_or(row.key_activation, row.default_activation),
                                  fields, row.key_activation);

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
  if (row.key_sliding_window != nullptr && fields.has(row.key_sliding_window)) {
    c.sliding_window = fields.size(row.key_sliding_window, kMaxPositions);
  }
  if (row.key_refused != nullptr && fields.boolean_or(row.key_refused, false)) {
    throw UnsupportedModel(file_label + ": " + row.key_refused + "=true (" + row.refused_what +
                           ") is not supported yet");
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
