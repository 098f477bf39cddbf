#include "core/model/model_weights.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <set>

#include "core/base/error.h"

namespace headscope {
namespace {

enum class QkvLayout : uint8_t {
  kSeparate,          // q_proj, k_proj, v_proj
  kFusedConcat,       // GPT-2 c_attn: [q; k; v] along the output axis
  kFusedInterleaved,  // GPT-NeoX query_key_value: per head [q_h; k_h; v_h]
};

// One checkpoint naming (TensorNaming). Layer names are relative to `layer_prefix` + index +
// "."; a linear named "x" has "x.weight" and "x.bias". nullptr: the naming has no such tensor.
// The member initialisers are Llama's names.
struct WeightNames {
  TensorNaming naming = TensorNaming::kLlama;
  const char* embed = "model.embed_tokens.weight";
  const char* pos_embed = nullptr;
  const char* final_norm = "model.norm";
  const char* unembed = "lm_head.weight";  // nullptr: always tied to the embedding
  const char* layer_prefix = "model.layers.";
  const char* ln1 = "input_layernorm";
  const char* ln2 = "post_attention_layernorm";
  QkvLayout qkv_layout = QkvLayout::kSeparate;
  const char* q = "self_attn.q_proj";  // the fused projection when qkv_layout is not kSeparate
  const char* k = "self_attn.k_proj";
  const char* v = "self_attn.v_proj";
  const char* o = "self_attn.o_proj";
  const char* q_norm = "self_attn.q_norm";
  const char* k_norm = "self_attn.k_norm";
  const char* gate = "mlp.gate_proj";
  const char* up = "mlp.up_proj";
  const char* down = "mlp.down_proj";
  bool conv1d = false;  // linear weights stored [in, out] (GPT-2's Conv1D)
};

constexpr WeightNames gpt2_names() {
  WeightNames n;
  n.naming = TensorNaming::kGpt2;
  n.embed = "transformer.wte.weight";
  n.pos_embed = "transformer.wpe.weight";
  n.final_norm = "transformer.ln_f";
  n.unembed = nullptr;
  n.layer_prefix = "transformer.h.";
  n.ln1 = "ln_1";
  n.ln2 = "ln_2";
  n.qkv_layout = QkvLayout::kFusedConcat;
  n.q = "attn.c_attn";
  n.k = n.v = nullptr;
  n.o = "attn.c_proj";
  n.q_norm = n.k_norm = nullptr;
  n.gate = nullptr;
  n.up = "mlp.c_fc";
  n.down = "mlp.c_proj";
  n.conv1d = true;
  return n;
}

constexpr WeightNames gpt_neox_names() {
  WeightNames n;
  n.naming = TensorNaming::kGptNeox;
  n.embed = "gpt_neox.embed_in.weight";
  n.final_norm = "gpt_neox.final_layer_norm";
  n.unembed = "embed_out.weight";
  n.layer_prefix = "gpt_neox.layers.";
  n.qkv_layout = QkvLayout::kFusedInterleaved;
  n.q = "attention.query_key_value";
  n.k = n.v = nullptr;
  n.o = "attention.dense";
  n.q_norm = n.k_norm = nullptr;
  n.gate = nullptr;
  n.up = "mlp.dense_h_to_4h";
  n.down = "mlp.dense_4h_to_h";
  return n;
}

// Indexed by TensorNaming.
constexpr std::array<WeightNames, 3> kWeightNames = {gpt2_names(), gpt_neox_names(), WeightNames()};
static_assert(kWeightNames[static_cast<size_t>(TensorNaming::kGpt2)].naming ==
                      TensorNaming::kGpt2 &&
                  kWeightNames[static_cast<size_t>(TensorNaming::kGptNeox)].naming ==
                      TensorNaming::kGptNeox &&
                  kWeightNames[static_cast<size_t>(TensorNaming::kLlama)].naming ==
                      TensorNaming::kLlama,
              "kWeightNames must be in TensorNaming order");

const WeightNames& names_for(Family family) {
  return kWeightNames[static_cast<size_t>(tensor_naming(family))];
}

std::string shape_string(torch::IntArrayRef shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

torch::ScalarType torch_dtype(DType dtype, const std::string& name) {
  switch (dtype) {
    case DType::kF32:
      return torch::kFloat32;
    case DType::kF16:
      return torch::kFloat16;
    case DType::kBF16:
      return torch::kBFloat16;
    case DType::kF64:
      return torch::kFloat64;
    default:
      throw InvalidInput("tensor '" + name + "' has dtype " + dtype_name(dtype) +
                         "; model weights must be float32, float16 or bfloat16");
  }
}

class WeightReader {
 public:
  WeightReader(const CheckpointWeights& checkpoint, const WeightLoadOptions& options,
               std::string prefix_fallback_from)
      : checkpoint_(checkpoint), options_(options), strip_(std::move(prefix_fallback_from)) {}

  bool has(const std::string& name) const { return find(name).has_value(); }

  // Loads `name` and checks it has `shape` (in the file's layout), in the compute dtype and on
  // the device.
  torch::Tensor get(const std::string& name, std::vector<int64_t> shape) const {
    return finish(raw(name, std::move(shape)));
  }

  // `name` as the file holds it, on the CPU (checked like get()): a view of the mapping, which
  // outlives the model (the Transformer keeps the checkpoint), copied only when misaligned.
  torch::Tensor raw(const std::string& name, std::vector<int64_t> shape) const {
    auto entry = find(name);
    if (!entry)
      throw InvalidInput("checkpoint has no tensor '" + name + "' (expected shape " +
                         shape_string(shape) + ")");
    used_.insert(entry->info->name);
    const TensorInfo& info = *entry->info;
    if (info.shape != shape) {
      throw InvalidInput(entry->file->path() + ": tensor '" + name + "' has shape " +
                         shape_string(info.shape) + ", expected " + shape_string(shape));
    }
    auto view = torch::from_blob(const_cast<uint8_t*>(entry->file->data(info)), info.shape,
                                 torch::TensorOptions(torch_dtype(info.dtype, name)));
    const bool aligned =
        reinterpret_cast<uintptr_t>(entry->file->data(info)) % dtype_size(info.dtype) == 0;
    return aligned ? view : view.clone();
  }

  // A raw() tensor (or a slice of one) in the compute dtype and on the device; still a view of
  // the file when neither changes.
  torch::Tensor finish(const torch::Tensor& t) const {
    return t.defined() ? t.to(options_.device, options_.dtype) : t;
  }

  torch::Tensor raw_if(bool wanted, const std::string& name, std::vector<int64_t> shape) const {
    return wanted ? raw(name, std::move(shape)) : torch::Tensor();
  }

  torch::Tensor get_if(bool wanted, const std::string& name, std::vector<int64_t> shape) const {
    return wanted ? get(name, std::move(shape)) : torch::Tensor();
  }

  // Counts a tensor the model deliberately does not read as used.
  void skip(const std::string& name) const {
    if (auto entry = find(name)) used_.insert(entry->info->name);
  }

  // Checkpoint tensors that no get() or skip() asked for, sorted.
  std::vector<std::string> unused() const {
    std::vector<std::string> names;
    for (const std::string& name : checkpoint_.names()) {
      if (used_.count(name) == 0) names.push_back(name);
    }
    return names;
  }

 private:
  // Some checkpoints drop the top-level module prefix ("transformer.", "model.").
  std::optional<CheckpointWeights::Entry> find(const std::string& name) const {
    if (auto e = checkpoint_.find(name)) return e;
    if (!strip_.empty() && name.rfind(strip_, 0) == 0) {
      return checkpoint_.find(std::string_view(name).substr(strip_.size()));
    }
    return std::nullopt;
  }

  const CheckpointWeights& checkpoint_;
  const WeightLoadOptions& options_;
  std::string strip_;
  mutable std::set<std::string> used_;
};

// Linear weight [out, in] as the file holds it (raw), from a file that stores [out, in], or
// [in, out] (Conv1D).
torch::Tensor linear(const WeightReader& r, const WeightNames& n, const std::string& name,
                     int64_t out, int64_t in) {
  if (n.conv1d) return r.raw(name + ".weight", {in, out}).t();
  return r.raw(name + ".weight", {out, in});
}

// The layer's q, k, v weights and biases as the file holds them (raw).
void load_qkv(const WeightReader& r, const WeightNames& n, const ModelConfig& c,
              const std::string& p, LayerWeights& w) {
  const int64_t q_out = c.n_heads * c.d_head;
  const int64_t kv_out = c.n_kv_heads * c.d_head;
  switch (n.qkv_layout) {
    case QkvLayout::kSeparate:
      w.wq = linear(r, n, p + n.q, q_out, c.d_model);
      w.wk = linear(r, n, p + n.k, kv_out, c.d_model);
      w.wv = linear(r, n, p + n.v, kv_out, c.d_model);
      w.bq = r.raw_if(c.qkv_bias, p + n.q + ".bias", {q_out});
      w.bk = r.raw_if(c.qkv_bias, p + n.k + ".bias", {kv_out});
      w.bv = r.raw_if(c.qkv_bias, p + n.v + ".bias", {kv_out});
      return;
    case QkvLayout::kFusedConcat: {
      auto fused = linear(r, n, p + n.q, 3 * q_out, c.d_model).chunk(3, 0);
      w.wq = fused[0], w.wk = fused[1], w.wv = fused[2];
      if (c.qkv_bias) {
        auto bias = r.raw(p + n.q + ".bias", {3 * q_out}).chunk(3, 0);
        w.bq = bias[0], w.bk = bias[1], w.bv = bias[2];
      }
      return;
    }
    case QkvLayout::kFusedInterleaved: {
      auto fused = linear(r, n, p + n.q, 3 * q_out, c.d_model).view({c.n_heads, 3, c.d_head, -1});
      w.wq = fused.select(1, 0).reshape({q_out, c.d_model});
      w.wk = fused.select(1, 1).reshape({q_out, c.d_model});
      w.wv = fused.select(1, 2).reshape({q_out, c.d_model});
      if (c.qkv_bias) {
        auto bias = r.raw(p + n.q + ".bias", {3 * q_out}).view({c.n_heads, 3, c.d_head});
        w.bq = bias.select(1, 0).reshape({q_out});
        w.bk = bias.select(1, 1).reshape({q_out});
        w.bv = bias.select(1, 2).reshape({q_out});
      }
      return;
    }
  }
}

// Keeps `rank`'s share (core/model/tensor_parallel.h) of the layer's raw projections: rows of
// q, k, v, gate and up (and their biases), columns of o and down. Norms and the biases added
// after the sum (bo, b_down) stay whole.
void keep_shard(LayerWeights& w, const ModelShard& s, int64_t d_head) {
  const auto rows = [](torch::Tensor& t, int64_t begin, int64_t count) {
    if (t.defined()) t = t.narrow(0, begin, count);
  };
  for (auto* t : {&w.wq, &w.bq}) rows(*t, s.head_begin * d_head, s.heads * d_head);
  for (auto* t : {&w.wk, &w.wv, &w.bk, &w.bv})
    rows(*t, s.kv_head_begin * d_head, s.kv_heads * d_head);
  for (auto* t : {&w.w_gate, &w.w_up, &w.b_up}) rows(*t, s.mlp_begin, s.mlp_width);
  w.wo = w.wo.narrow(1, s.head_begin * d_head, s.heads * d_head);
  w.w_down = w.w_down.narrow(1, s.mlp_begin, s.mlp_width);
}

LayerWeights load_layer(const WeightReader& r, const WeightNames& n, const ModelConfig& c,
                        int64_t layer, const std::optional<ModelShard>& shard) {
  const std::string p = std::string(n.layer_prefix) + std::to_string(layer) + ".";
  const bool layer_norm = c.norm == NormKind::kLayerNorm;
  LayerWeights w;
  w.ln1_w = r.raw(p + n.ln1 + ".weight", {c.d_model});
  w.ln1_b = r.raw_if(layer_norm, p + n.ln1 + ".bias", {c.d_model});
  w.ln2_w = r.raw(p + n.ln2 + ".weight", {c.d_model});
  w.ln2_b = r.raw_if(layer_norm, p + n.ln2 + ".bias", {c.d_model});
  load_qkv(r, n, c, p, w);
  w.wo = linear(r, n, p + n.o, c.d_model, c.n_heads * c.d_head);
  w.bo = r.raw_if(c.o_bias, p + n.o + ".bias", {c.d_model});
  if (c.qk_norm) {
    HS_ASSERT(n.q_norm != nullptr && n.k_norm != nullptr);
    w.q_norm = r.raw(p + n.q_norm + ".weight", {c.d_head});
    w.k_norm = r.raw(p + n.k_norm + ".weight", {c.d_head});
  }
  if (c.gated_mlp) w.w_gate = linear(r, n, p + n.gate, c.d_mlp, c.d_model);
  w.w_up = linear(r, n, p + n.up, c.d_mlp, c.d_model);
  w.w_down = linear(r, n, p + n.down, c.d_model, c.d_mlp);
  w.b_up = r.raw_if(c.mlp_bias, p + n.up + ".bias", {c.d_mlp});
  w.b_down = r.raw_if(c.mlp_bias, p + n.down + ".bias", {c.d_model});
  if (shard) keep_shard(w, *shard, c.d_head);
  for (auto* t :
       {&w.ln1_w, &w.ln1_b, &w.ln2_w, &w.ln2_b, &w.wq, &w.wk, &w.wv, &w.bq, &w.bk, &w.bv, &w.wo,
        &w.bo, &w.q_norm, &w.k_norm, &w.w_gate, &w.w_up, &w.w_down, &w.b_up, &w.b_down}) {
    *t = r.finish(*t);
    // A slice kept as a strided view of the file would be gathered again by every product.
    if (shard && t->defined()) *t = t->contiguous();
  }
  return w;
}

// Buffers that older transformers versions saved beside the parameters: GPT-2's and GPT-NeoX's
// causal masks (attn.bias, attn.masked_bias) and rotary inverse frequencies. They hold nothing
// the model computes from.
bool is_saved_buffer(const std::string& name) {
  for (const char* suffix : {".attn.bias", ".attn.masked_bias", ".attention.bias",
                             ".attention.masked_bias", ".rotary_emb.inv_freq"}) {
    const size_t length = std::strlen(suffix);
    if (name.size() >= length && name.compare(name.size() - length, length, suffix) == 0) {
      return true;
    }
  }
  return false;
}

// A checkpoint holding parameters the model would not read means config.json and the weights
// disagree (fewer layers in the config than in the checkpoint, another family's names): the
// model would run, silently truncated or without parts it was trained with. Refused, naming the
// first tensors left over.
void refuse_unused(const std::vector<std::string>& unused, const ModelConfig& c,
                   const WeightNames& n) {
  std::vector<std::string> leftover;
  for (const std::string& name : unused) {
    if (!is_saved_buffer(name)) leftover.push_back(name);
  }
  if (leftover.empty()) return;
  constexpr size_t kNamed = 3;
  std::string names;
  for (size_t i = 0; i < std::min(leftover.size(), kNamed); ++i) {
    names += (i ? ", " : "") + leftover[i];
  }
  if (leftover.size() > kNamed) names += ", ...";
  std::string hint;
  const std::string layer_prefix = n.layer_prefix;
  const auto beyond_last_layer = [&](const std::string& name) {
    const std::string expected = layer_prefix + std::to_string(c.n_layers) + ".";
    return name.find(expected) != std::string::npos;
  };
  if (std::any_of(leftover.begin(), leftover.end(), beyond_last_layer)) {
    hint =
        "; config.json has " + std::to_string(c.n_layers) + " layers but the checkpoint holds more";
  }
  throw InvalidInput("checkpoint holds " + std::to_string(leftover.size()) + " tensor" +
                     (leftover.size() == 1 ? "" : "s") + " the " + c.model_type +
                     " model does not use (" + names + ")" + hint +
                     "; headscope refuses to load a model that would silently leave out weights");
}

}  // namespace

int64_t ModelWeights::parameter_count() const {
  int64_t total = 0;
  auto add = [&total](const torch::Tensor& t) { total += t.defined() ? t.numel() : 0; };
  add(embed), add(pos_embed), add(final_norm_w), add(final_norm_b);
  if (!unembed.is_same(embed)) add(unembed);
  for (const auto& w : layers) {
    for (const auto* t :
         {&w.ln1_w, &w.ln1_b, &w.ln2_w, &w.ln2_b, &w.wq, &w.wk, &w.wv, &w.bq, &w.bk, &w.bv, &w.wo,
          &w.bo, &w.q_norm, &w.k_norm, &w.w_gate, &w.w_up, &w.w_down, &w.b_up, &w.b_down}) {
      add(*t);
    }
  }
  return total;
}

ModelWeights load_model_weights(const ModelConfig& c, const CheckpointWeights& checkpoint,
                                const WeightLoadOptions& options) {
  const WeightNames& n = names_for(c.family);
  const std::string layer_prefix = n.layer_prefix;
  const std::string top = layer_prefix.substr(0, layer_prefix.find('.') + 1);
  WeightReader r(checkpoint, options, top);
  ModelWeights m;
  m.embed = r.get(n.embed, {c.vocab_size, c.d_model});
  if (n.pos_embed != nullptr) m.pos_embed = r.get(n.pos_embed, {c.max_positions, c.d_model});
  m.final_norm_w = r.get(std::string(n.final_norm) + ".weight", {c.d_model});
  m.final_norm_b =
      r.get_if(c.norm == NormKind::kLayerNorm, std::string(n.final_norm) + ".bias", {c.d_model});
  // Tied checkpoints may still store a copy of the head; the embedding is what the model uses.
  const bool tied = c.tied_embeddings || n.unembed == nullptr;
  m.unembed = tied ? m.embed : r.get(n.unembed, {c.vocab_size, c.d_model});
  if (tied && n.unembed != nullptr) r.skip(n.unembed);
  m.layers.reserve(static_cast<size_t>(c.n_layers));
  for (int64_t layer = 0; layer < c.n_layers; ++layer)
    m.layers.push_back(load_layer(r, n, c, layer, options.shard));
  refuse_unused(r.unused(), c, n);
  return m;
}

}  // namespace headscope
