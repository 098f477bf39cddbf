#include "core/model/transformer.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/base/error.h"
#include "core/model/chunked_attention.h"
#include "core/model/torch_compat.h"

namespace headscope {
namespace {

torch::Tensor fire(HookSink* hooks, HookPoint point, torch::Tensor value) {
  return hooks != nullptr && hooks->active(point) ? hooks->fire(point, std::move(value)) : value;
}

bool listens(HookSink* hooks, HookPoint point) {
  return hooks != nullptr && hooks->active(point);
}

// Throws InvalidInput unless every id is in [0, vocab). Runs on host memory: reading the ids of
// a device tensor would wait for the device.
void check_token_ids(const torch::Tensor& host_tokens, int64_t vocab) {
  const auto ids = host_tokens.to(torch::kInt64).contiguous();
  const int64_t* data = ids.data_ptr<int64_t>();
  const auto [lo, hi] = std::minmax_element(data, data + ids.numel());
  if (*lo < 0 || *hi >= vocab) {
    throw InvalidInput("token id " + std::to_string(*lo < 0 ? *lo : *hi) +
                       " is outside the vocabulary [0, " + std::to_string(vocab) + ")");
  }
}

torch::Tensor linear(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b) {
  return torch::linear(x, w, b.defined() ? c10::optional<torch::Tensor>(b) : c10::nullopt);
}

// RMSNorm as transformers computes it: in float32, scaled in the input dtype.
torch::Tensor rms_norm(const torch::Tensor& x, const torch::Tensor& w, double eps) {
  auto xf = x.to(torch::kFloat32);
  auto normed = xf * torch::rsqrt(xf.pow(2).mean(-1, true) + eps);
  return w * normed.to(x.scalar_type());
}

torch::Tensor activate(const torch::Tensor& x, Activation act) {
  switch (act) {
    case Activation::kGeluTanh:
      return torch::gelu(x, "tanh");
    case Activation::kGeluExact:
      return torch::gelu(x);
    case Activation::kSilu:
      return torch::silu(x);
    case Activation::kRelu:
      return torch::relu(x);
  }
  HS_ASSERT(false && "unhandled activation");
}

torch::ScalarType choose_dtype(const ModelConfig& config, const ModelLoadOptions& options) {
  if (options.dtype) return *options.dtype;
  switch (config.dtype) {
    case DType::kBF16:
      return torch::kBFloat16;
    case DType::kF16: {
      // LibTorch has no float16 matrix product on the CPU: float32 where any layer runs there.
      bool cpu = options.device.is_cpu();
      for (const torch::Device& d : options.devices) cpu = cpu || d.is_cpu();
      return cpu ? torch::kFloat32 : torch::kFloat16;
    }
    default:
      return torch::kFloat32;
  }
}

// allowed[q, k]: causal, shifted by the cached prefix, and limited to a sliding window.
torch::Tensor allowed_keys(int64_t queries, int64_t keys, int64_t offset,
                           std::optional<int64_t> window, torch::Device device) {
  auto opts = torch::TensorOptions(torch::kInt64).device(device);
  auto q = torch::arange(offset, offset + queries, opts).unsqueeze(1);
  auto k = torch::arange(0, keys, opts).unsqueeze(0);
  auto allowed = k <= q;
  if (window) allowed = allowed.logical_and(k > q - *window);
  return allowed;
}

// The load options of one rank's share; checks the split before anything is read.
WeightLoadOptions weight_options(const ModelConfig& config, torch::ScalarType dtype,
                                 const ModelLoadOptions& options) {
  // A pipeline's weights are read on the host and then placed layer by layer, so no device
  // holds more than its share.
  WeightLoadOptions w{dtype, options.devices.empty() ? options.device : torch::kCPU, std::nullopt};
  const TensorParallel& tp = options.tensor_parallel;
  if (tp.active()) {
    HS_ASSERT(tp.all_reduce_sum && "tensor parallelism needs the all-reduce");
    w.shard = model_shard(config, tp.rank, tp.world);
  }
  return w;
}

}  // namespace

std::shared_ptr<Transformer> Transformer::load(const std::string& dir,
                                               const ModelLoadOptions& options) {
  ModelConfig config = load_model_config(dir);
  const TensorParallel& tp = options.tensor_parallel;
  if (tp.active()) model_shard(config, tp.rank, tp.world);  // before the weights are opened
  if (tp.active() && options.devices.size() > 1) {
    throw InvalidInput("pipeline placement over " + std::to_string(options.devices.size()) +
                       " devices and tensor parallelism cannot be combined; give one device");
  }
  if (!options.devices.empty()) place_layers(config.n_layers, options.devices);
  auto checkpoint = std::make_shared<const CheckpointWeights>(CheckpointWeights::open(dir));
  return std::shared_ptr<Transformer>(
      new Transformer(dir, std::move(config), std::move(checkpoint), options));
}

Transformer::Transformer(std::string path, ModelConfig config,
                         std::shared_ptr<const CheckpointWeights> ckpt,
                         const ModelLoadOptions& options)
    : path_(std::move(path)),
      config_(std::move(config)),
      checkpoint_(std::move(ckpt)),
      dtype_(choose_dtype(config_, options)),
      device_(options.devices.empty() ? options.device : options.devices.front()),
      weights_(load_model_weights(config_, *checkpoint_, weight_options(config_, dtype_, options))),
      names_(config_),
      tensor_parallel_(options.tensor_parallel),
      shard_(model_shard(config_, tensor_parallel_.rank, tensor_parallel_.world)),
      placement_(place_layers(config_.n_layers, options.devices.empty()
                                                    ? std::vector<torch::Device>{device_}
                                                    : options.devices)) {
  if (!options.devices.empty()) place_weights(weights_, placement_);
  make_rotary();
}

Transformer::Transformer(std::string path, ModelConfig config, ModelWeights weights)
    : path_(std::move(path)),
      config_(std::move(config)),
      dtype_(weights.embed.scalar_type()),
      device_(weights.embed.device()),
      weights_(std::move(weights)),
      names_(config_),
      shard_(model_shard(config_, 0, 1)),
      placement_(place_layers(config_.n_layers, {device_})) {
  make_rotary();
}

void Transformer::make_rotary() {
  if (config_.learned_positions) return;
  for (const torch::Device& d : placement_.devices) rotary_.emplace_back(config_, d);
}

std::shared_ptr<Transformer> Transformer::from_weights(ModelConfig config, ModelWeights weights,
                                                       std::string path) {
  if (!weights.embed.defined() || weights.layers.size() != static_cast<size_t>(config.n_layers)) {
    throw InvalidInput("from_weights: the weights do not match the config's " +
                       std::to_string(config.n_layers) + " layers");
  }
  return std::shared_ptr<Transformer>(
      new Transformer(std::move(path), std::move(config), std::move(weights)));
}

torch::Tensor Transformer::sum_over_ranks(torch::Tensor partial) const {
  if (!tensor_parallel_.active()) return partial;
  // The collective writes the sum in place, outside autograd: a gradient would silently be
  // this rank's share only.
  if (partial.requires_grad()) {
    throw InvalidInput("gradients are not supported under tensor parallelism (forward only)");
  }
  tensor_parallel_.all_reduce_sum(partial);
  return partial;
}

torch::Tensor Transformer::row_parallel_linear(const torch::Tensor& x, const torch::Tensor& w,
                                               const torch::Tensor& b) const {
  if (!tensor_parallel_.active()) return linear(x, w, b);
  auto out = sum_over_ranks(linear(x, w, torch::Tensor()));
  return b.defined() ? out + b : out;
}

double Transformer::attention_scale() const {
  return 1.0 / std::sqrt(static_cast<double>(config_.d_head));
}

torch::Tensor Transformer::norm(const torch::Tensor& x, const torch::Tensor& w,
                                const torch::Tensor& b) const {
  if (config_.norm == NormKind::kRmsNorm) return rms_norm(x, w, config_.norm_eps);
  return torch::layer_norm(x, {config_.d_model}, w, b, config_.norm_eps);
}

torch::Tensor Transformer::attention(int64_t layer, const torch::Tensor& x, HookSink* hooks,
                                     KVCache* cache, int64_t offset) const {
  const auto& w = weights_.layers[static_cast<size_t>(layer)];
  const auto at = [layer](HookKind kind) { return HookPoint{layer, kind}; };
  const ModelConfig& c = config_;
  const int64_t batch = x.size(0), seq = x.size(1);
  // This rank's heads (all of them in one process).
  const int64_t heads = shard_.heads, kv_heads = shard_.kv_heads;

  auto q = linear(x, w.wq, w.bq).view({batch, seq, heads, c.d_head});
  auto k = linear(x, w.wk, w.bk).view({batch, seq, kv_heads, c.d_head});
  auto v = linear(x, w.wv, w.bv).view({batch, seq, kv_heads, c.d_head});
  if (c.qk_norm) {
    q = rms_norm(q, w.q_norm, c.norm_eps);
    k = rms_norm(k, w.k_norm, c.norm_eps);
  }
  q = fire(hooks, at(HookKind::kQ), q);
  k = fire(hooks, at(HookKind::kK), k);
  v = fire(hooks, at(HookKind::kV), v);
  if (!rotary_.empty()) {
    const Rotary& rotary =
        rotary_[static_cast<size_t>(placement_.layer_device[static_cast<size_t>(layer)])];
    q = fire(hooks, at(HookKind::kRotQ), rotary.apply(q, offset));
    k = fire(hooks, at(HookKind::kRotK), rotary.apply(k, offset));
  }

  // [B, T, H, D] -> [B, H, T, D]; prepend cached keys and values.
  auto qh = q.transpose(1, 2);
  auto kh = k.transpose(1, 2);
  auto vh = v.transpose(1, 2);
  if (cache != nullptr) {
    auto& ck = cache->keys[static_cast<size_t>(layer)];
    auto& cv = cache->values[static_cast<size_t>(layer)];
    ck = ck.defined() ? torch::cat({ck, kh}, 2) : kh.contiguous();
    cv = cv.defined() ? torch::cat({cv, vh}, 2) : vh.contiguous();
    kh = ck, vh = cv;
  }
  const double scale = attention_scale();
  const bool explicit_attention =
      listens(hooks, at(HookKind::kAttnScores)) || listens(hooks, at(HookKind::kPattern));
  // The sink may replace plain causal self-attention (per-head sparse configs).
  std::optional<torch::Tensor> replaced;
  if (hooks != nullptr && cache == nullptr && !explicit_attention &&
      (!c.sliding_window || seq <= *c.sliding_window)) {
    replaced = hooks->attend(layer, qh, kh, vh, scale);
    if (replaced && shard_.sharded()) {
      throw InvalidInput(
          "attention overrides (per-head sparse attention) are not supported "
          "under tensor parallelism");
    }
    if (replaced && !replaced->sizes().equals(qh.sizes())) {
      throw InvalidInput("the attention override of layer " + std::to_string(layer) +
                         " returned a tensor of another shape than q");
    }
  }

  torch::Tensor z;  // [B, H, T, D]
  if (replaced) {
    z = replaced->to(dtype_);
  } else {
    if (c.n_kv_heads != c.n_heads) {
      kh = kh.repeat_interleave(c.kv_group_size(), 1);
      vh = vh.repeat_interleave(c.kv_group_size(), 1);
    }
    const int64_t keys = kh.size(2);
    const bool plain_causal = keys == seq && !c.sliding_window;
    if (explicit_attention) {
      auto scores = torch::matmul(qh, kh.transpose(2, 3)) * scale;
      auto allowed = allowed_keys(seq, keys, offset, c.sliding_window, x.device());
      scores = scores.masked_fill(allowed.logical_not(), -std::numeric_limits<double>::infinity());
      scores = fire(hooks, at(HookKind::kAttnScores), scores);
      auto pattern = torch::softmax(scores.to(torch::kFloat32), -1).to(dtype_);
      pattern = fire(hooks, at(HookKind::kPattern), pattern);
      z = torch::matmul(pattern, vh);
    } else if (compat::kHasFusedAttention) {
      auto allowed = plain_causal ? torch::Tensor()
                                  : allowed_keys(seq, keys, offset, c.sliding_window, x.device());
      z = compat::fused_attention(qh, kh, vh, allowed, scale);
    } else {
      z = chunked_causal_attention(qh, kh, vh, offset, c.sliding_window, scale);
    }
  }
  auto zt = fire(hooks, at(HookKind::kZ), z.transpose(1, 2));  // [B, T, H, D]

  torch::Tensor out;
  if (listens(hooks, at(HookKind::kResult))) {
    // Each head's own contribution to the residual stream: [B, T, H, d_model].
    auto wo = w.wo.view({c.d_model, heads, c.d_head});
    auto result = fire(hooks, at(HookKind::kResult), torch::einsum("bthd,mhd->bthm", {zt, wo}));
    out = sum_over_ranks(result.sum(2));
    if (w.bo.defined()) out = out + w.bo;
  } else {
    out = row_parallel_linear(zt.reshape({batch, seq, heads * c.d_head}), w.wo, w.bo);
  }
  return fire(hooks, at(HookKind::kAttnOut), out);
}

torch::Tensor Transformer::mlp(int64_t layer, const torch::Tensor& x, HookSink* hooks) const {
  const auto& w = weights_.layers[static_cast<size_t>(layer)];
  const auto at = [layer](HookKind kind) { return HookPoint{layer, kind}; };
  torch::Tensor post;
  if (config_.gated_mlp) {
    auto pre = fire(hooks, at(HookKind::kMlpPre), linear(x, w.w_gate, torch::Tensor()));
    post = activate(pre, config_.activation) * linear(x, w.w_up, w.b_up);
  } else {
    auto pre = fire(hooks, at(HookKind::kMlpPre), linear(x, w.w_up, w.b_up));
    post = activate(pre, config_.activation);
  }
  post = fire(hooks, at(HookKind::kMlpPost), post);
  return fire(hooks, at(HookKind::kMlpOut), row_parallel_linear(post, w.w_down, w.b_down));
}

torch::Tensor Transformer::forward(const torch::Tensor& tokens, HookSink* hooks, KVCache* cache,
                                   LogitPositions positions) const {
  if (tokens.dim() != 2) {
    throw InvalidInput("tokens must be a [batch, positions] tensor, got " +
                       std::to_string(tokens.dim()) + " dimensions");
  }
  if (tokens.numel() == 0) throw InvalidInput("tokens: the sequence is empty");
  // Host ids are checked before they are uploaded; ids already on a device are copied back
  // once to be checked (callers that mind pass host ids).
  check_token_ids(tokens.is_cpu() ? tokens : tokens.to(torch::kCPU), config_.vocab_size);
  const int64_t offset = cache != nullptr ? cache->length() : 0;
  const int64_t seq = tokens.size(1);
  if (cache != nullptr && cache->keys.empty()) {
    cache->keys.resize(static_cast<size_t>(config_.n_layers));
    cache->values.resize(static_cast<size_t>(config_.n_layers));
  }
  auto ids = tokens.to(device_, torch::kInt64);

  auto x =
      fire(hooks, {HookPoint::kNoLayer, HookKind::kEmbed},
           weights_.embed.index_select(0, ids.flatten()).view({ids.size(0), seq, config_.d_model}));
  if (config_.learned_positions) {
    if (offset + seq > config_.max_positions) {
      throw InvalidInput("sequence of " + std::to_string(offset + seq) +
                         " positions exceeds the model's " + std::to_string(config_.max_positions) +
                         " learned positions");
    }
    auto pos = weights_.pos_embed.narrow(0, offset, seq).unsqueeze(0).expand_as(x);
    x = x + fire(hooks, {HookPoint::kNoLayer, HookKind::kPosEmbed}, pos);
  }

  return layers_and_logits(x, 0, hooks, cache, offset, positions);
}

torch::Tensor Transformer::forward_from(int64_t first_layer, const torch::Tensor& resid_pre,
                                        HookSink* hooks, LogitPositions positions) const {
  HS_ASSERT(first_layer >= 0 && first_layer < config_.n_layers);
  HS_ASSERT(resid_pre.dim() == 3 && resid_pre.size(2) == config_.d_model);
  return layers_and_logits(resid_pre.to(placement_.of_layer(first_layer), dtype_), first_layer,
                           hooks, nullptr, 0, positions);
}

torch::Tensor Transformer::layers_and_logits(torch::Tensor x, int64_t first_layer, HookSink* hooks,
                                             KVCache* cache, int64_t offset,
                                             LogitPositions positions) const {
  const int64_t seq = x.size(1);
  for (int64_t layer = first_layer; layer < config_.n_layers; ++layer) {
    const auto& w = weights_.layers[static_cast<size_t>(layer)];
    const auto at = [layer](HookKind kind) { return HookPoint{layer, kind}; };
    // A pipeline hands the residual stream to the next device at its first layer there.
    x = fire(hooks, at(HookKind::kResidPre), x.to(placement_.of_layer(layer)));
    auto attn_in = fire(hooks, at(HookKind::kLn1Normalized), norm(x, w.ln1_w, w.ln1_b));
    auto attn_out = attention(layer, attn_in, hooks, cache, offset);
    if (config_.parallel_residual) {
      auto mlp_in = fire(hooks, at(HookKind::kLn2Normalized), norm(x, w.ln2_w, w.ln2_b));
      x = x + attn_out + mlp(layer, mlp_in, hooks);
    } else {
      x = fire(hooks, at(HookKind::kResidMid), x + attn_out);
      auto mlp_in = fire(hooks, at(HookKind::kLn2Normalized), norm(x, w.ln2_w, w.ln2_b));
      x = x + mlp(layer, mlp_in, hooks);
    }
    x = fire(hooks, at(HookKind::kResidPost), x);
  }
  x = fire(hooks, {HookPoint::kNoLayer, HookKind::kLnFinal},
           norm(x.to(placement_.last()), weights_.final_norm_w, weights_.final_norm_b));
  switch (positions) {
    case LogitPositions::kNone:
      return {};
    case LogitPositions::kLast:
      return torch::matmul(x.narrow(1, seq - 1, 1), weights_.unembed.t()).to(device_);
    case LogitPositions::kAll:
      break;
  }
  return torch::matmul(x, weights_.unembed.t()).to(device_);
}

}  // namespace headscope
