// LibTorch side of the CUDA attention statistics: checks and pads the inputs, allocates the
// outputs and fills AttentionStatsParams for the launcher (attention_stats_kernel.cu).
#include <ATen/ATen.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <torch/version.h>

#include <algorithm>
#include <limits>
#include <string>
#include <tuple>
#include <utility>

#include "core/base/error.h"
#include "kernels/attention_stats_backends.h"
#include "kernels/cuda/attention_stats_params.h"
#include "kernels/cuda/kernel_device.h"

namespace headscope {
namespace {

// Zero-pads the head dim to 64 or 128 (zeros add nothing to q·k) and makes the layout the
// kernel loads with 16-byte vectors: last dim contiguous, other strides multiples of 8.
torch::Tensor kernel_layout(const torch::Tensor& x) {
  const int64_t d = x.size(2), padded = d <= 64 ? 64 : 128;
  torch::Tensor y = d == padded ? x : torch::constant_pad_nd(x, {0, padded - d});
  const bool aligned = y.stride(2) == 1 && y.stride(0) % 8 == 0 && y.stride(1) % 8 == 0 &&
                       reinterpret_cast<uintptr_t>(y.data_ptr()) % 16 == 0;
  return aligned ? y : y.contiguous();
}

void check_output(const torch::Tensor& t, const char* name, torch::IntArrayRef shape,
                  torch::ScalarType dtype, const torch::Device& device) {
  if (!t.defined() || t.sizes() != shape || t.scalar_type() != dtype || t.device() != device ||
      !t.is_contiguous()) {
    throw InvalidInput(std::string("attention_stats_cuda_into: output ") + name +
                       " must be a contiguous " + std::string(c10::toString(dtype)) +
                       " tensor of shape " + c10::str(shape) + " on " + device.str());
  }
}

// Inputs the kernels take, whatever the GPU.
bool inputs_supported(const torch::Tensor& q, const torch::Tensor& k,
                      const AttentionStatsOptions& o) {
  const auto dtype = q.scalar_type();
  return q.is_cuda() && k.is_cuda() && q.device() == k.device() && k.scalar_type() == dtype &&
         (dtype == torch::kBFloat16 || dtype == torch::kHalf) && q.dim() == 3 && k.dim() == 3 &&
         q.size(2) <= 128 && q.size(1) > 0 && q.size(1) < std::numeric_limits<int>::max() / 2 &&
         o.topk <= cuda::kStatsMaxTopk && (o.block_size == 64 || o.block_size == 128);
}

}  // namespace

bool attention_stats_cuda_supports(const torch::Tensor& q, const torch::Tensor& k,
                                   const AttentionStatsOptions& o) {
  return inputs_supported(q, k, o) && cuda_kernels_run_on(q.device());
}

AttentionStats attention_stats_cuda(const torch::Tensor& q, const torch::Tensor& k,
                                    const AttentionStatsOptions& o, const torch::Tensor& lse) {
  check_attention_stats_inputs(q, k, o);
  const int64_t heads = q.size(0), seq = q.size(1),
                n_blocks = (seq + o.block_size - 1) / o.block_size;
  auto f32 = torch::TensorOptions(torch::kFloat32).device(q.device());
  auto i32 = torch::TensorOptions(torch::kInt32).device(q.device());
  AttentionStats out;
  out.entropy = torch::empty({heads, seq}, f32);
  out.sink_mass = torch::empty({heads, seq}, f32);
  out.local_mass = torch::empty({heads, seq}, f32);
  out.max_prob = torch::empty({heads, seq}, f32);
  out.argmax = torch::empty({heads, seq}, i32);
  out.topk_index = torch::empty({heads, seq, o.topk}, i32);
  out.topk_prob = torch::empty({heads, seq, o.topk}, f32);
  out.block_mass = torch::empty({heads, n_blocks, n_blocks}, f32);
  attention_stats_cuda_into(q, k, o, out, lse);
  return out;
}

void attention_stats_cuda_into(const torch::Tensor& q_in, const torch::Tensor& k_in,
                               const AttentionStatsOptions& o, AttentionStats& out,
                               const torch::Tensor& lse) {
  check_attention_stats_inputs(q_in, k_in, o);
  if (!inputs_supported(q_in, k_in, o)) {
    throw InvalidInput(
        "attention_stats_cuda: needs bfloat16 or float16 CUDA tensors q and k on "
        "one device, head dim <= 128, topk <= 16 and block size 64 or 128");
  }
  if (!cuda_kernels_run_on(q_in.device())) {
    throw InvalidInput("attention_stats_cuda: " + cuda_kernels_device_mismatch(q_in.device()));
  }
  const c10::cuda::CUDAGuard guard(q_in.device());
  torch::NoGradGuard no_grad;
  const torch::Tensor q = kernel_layout(q_in), k = kernel_layout(k_in);
  const int64_t heads = q.size(0), seq = q.size(1),
                n_blocks = (seq + o.block_size - 1) / o.block_size;
  const auto device = q.device();
  check_output(out.entropy, "entropy", {heads, seq}, torch::kFloat32, device);
  check_output(out.sink_mass, "sink_mass", {heads, seq}, torch::kFloat32, device);
  check_output(out.local_mass, "local_mass", {heads, seq}, torch::kFloat32, device);
  check_output(out.max_prob, "max_prob", {heads, seq}, torch::kFloat32, device);
  check_output(out.argmax, "argmax", {heads, seq}, torch::kInt32, device);
  check_output(out.topk_index, "topk_index", {heads, seq, o.topk}, torch::kInt32, device);
  check_output(out.topk_prob, "topk_prob", {heads, seq, o.topk}, torch::kFloat32, device);
  if (out.block_mass.defined()) {
    check_output(out.block_mass, "block_mass", {heads, n_blocks, n_blocks}, torch::kFloat32,
                 device);
  }
  // One pass takes the normalisers in base 2; it needs the block mass (it is what it adds).
  const bool one_pass = lse.defined() && out.block_mass.defined();
  if (one_pass &&
      (!lse.sizes().equals({heads, seq}) || lse.device() != device || !lse.is_floating_point())) {
    throw InvalidInput("attention_stats_cuda: lse must be a float [" + std::to_string(heads) +
                       ", " + std::to_string(seq) + "] tensor on " + device.str() + ", got " +
                       c10::str(lse.sizes()));
  }
  auto lse2 =
      one_pass ? (lse.to(torch::kFloat32) * cuda::kLog2eDouble).contiguous()
               : torch::empty({heads, seq}, torch::TensorOptions(torch::kFloat32).device(device));

  cuda::AttentionStatsParams p;
  p.q = q.data_ptr();
  p.k = k.data_ptr();
  p.q_head_stride = q.stride(0);
  p.q_token_stride = q.stride(1);
  p.k_head_stride = k.stride(0);
  p.k_token_stride = k.stride(1);
  p.heads = static_cast<int>(heads);
  p.kv_heads = static_cast<int>(k.size(0));
  p.seq = static_cast<int>(seq);
  p.head_dim = static_cast<int>(q.size(2));
  p.bf16 = q.scalar_type() == torch::kBFloat16;
  p.scale = static_cast<float>(o.scale);
  // A window as long as the sequence masks nothing.
  p.sliding_window =
      o.sliding_window && *o.sliding_window < seq ? static_cast<int>(*o.sliding_window) : 0;
  p.sink = static_cast<int>(std::min(o.sink, seq));
  p.window = static_cast<int>(std::min(o.window, seq + 1));
  p.topk = static_cast<int>(o.topk);
  p.block_size = static_cast<int>(o.block_size);
  p.entropy = out.entropy.data_ptr<float>();
  p.sink_mass = out.sink_mass.data_ptr<float>();
  p.local_mass = out.local_mass.data_ptr<float>();
  p.max_prob = out.max_prob.data_ptr<float>();
  p.argmax = out.argmax.data_ptr<int32_t>();
  p.topk_index = out.topk_index.data_ptr<int32_t>();
  p.topk_prob = out.topk_prob.data_ptr<float>();
  p.block_mass = out.block_mass.defined() ? out.block_mass.data_ptr<float>() : nullptr;
  p.lse2 = lse2.data_ptr<float>();
  p.lse2_given = one_pass;
  const std::string error =
      cuda::attention_stats_launch(p, c10::cuda::getCurrentCUDAStream(device.index()).stream());
  if (!error.empty()) throw Error("attention_stats_cuda: CUDA error: " + error);
}

#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 5)
namespace {

// LibTorch's fused backends as _fused_sdp_choice numbers them (at::SDPBackend).
enum FusedBackend : int64_t { kFlash = 1, kEfficient = 2, kCudnn = 3 };

// Causal attention z [B, H, T, D] and its natural-log normalisers [H, T] (B = 1) from the fused
// backend scaled_dot_product_attention would pick for these inputs, so the recorded model
// computes the same z with or without statistics; nullopt for a backend without them.
std::optional<std::pair<torch::Tensor, torch::Tensor>> fused_attention_with_lse(
    const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, double scale) {
  const int64_t heads = q.size(1), seq = q.size(2);
  switch (at::_fused_sdp_choice(q, k, v, {}, 0.0, /*is_causal=*/true, scale)) {
    case kCudnn: {
      auto r = at::_scaled_dot_product_cudnn_attention(q, k, v, {}, /*compute_log_sumexp=*/true,
                                                       0.0, true, false, scale);
      return std::pair{std::get<0>(r), std::get<1>(r)[0].reshape({heads, seq})};
    }
    case kFlash: {
      auto r = at::_scaled_dot_product_flash_attention(q, k, v, 0.0, true, false, scale);
      return std::pair{std::get<0>(r), std::get<1>(r)[0].reshape({heads, seq})};
    }
    case kEfficient: {
      // Its normalisers are padded to a multiple of 32 rows.
      auto r = at::_scaled_dot_product_efficient_attention(q, k, v, {}, true, 0.0, true, scale);
      return std::pair{std::get<0>(r), std::get<1>(r)[0].narrow(-1, 0, seq)};
    }
    default:
      return std::nullopt;
  }
}

}  // namespace
#endif

std::optional<AttentionWithStats> attention_with_stats_cuda(const torch::Tensor& q,
                                                            const torch::Tensor& k,
                                                            const torch::Tensor& v,
                                                            const AttentionStatsOptions& o) {
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 5)
  const int64_t heads = q.size(0), seq = q.size(1);
  const bool windowed = o.sliding_window && *o.sliding_window < seq;
  if (windowed || !attention_stats_cuda_supports(q, k, o) || v.device() != q.device() ||
      v.scalar_type() != q.scalar_type()) {
    return std::nullopt;
  }
  const c10::cuda::CUDAGuard guard(q.device());
  torch::NoGradGuard no_grad;
  // The model's own path repeats k and v for grouped queries too; the statistics read k as is.
  const int64_t group = heads / k.size(0);
  const auto kh = group == 1 ? k : k.repeat_interleave(group, 0);
  const auto vh = group == 1 ? v : v.repeat_interleave(group, 0);
  auto fused = fused_attention_with_lse(q.unsqueeze(0), kh.unsqueeze(0), vh.unsqueeze(0), o.scale);
  if (!fused) return std::nullopt;
  AttentionWithStats out;
  out.z = fused->first[0];
  out.lse = fused->second;
  out.stats = attention_stats_cuda(q, k, o, out.lse);
  return out;
#else
  (void)q, (void)k, (void)v, (void)o;
  return std::nullopt;
#endif
}

}  // namespace headscope
