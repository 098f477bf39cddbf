#include "core/model/rope.h"

#include <cmath>

namespace headscope {
namespace {

// Llama 3.1: long wavelengths slow down by `factor`, short ones stay, the band between blends.
torch::Tensor llama3_scale(const torch::Tensor& inv_freq, const RopeConfig& rope) {
  const double old_context = static_cast<double>(rope.original_max_positions);
  const double low_freq_wavelen = old_context / rope.low_freq_factor;
  const double high_freq_wavelen = old_context / rope.high_freq_factor;
  auto wavelen = 2 * M_PI / inv_freq;
  auto scaled = torch::where(wavelen > low_freq_wavelen, inv_freq / rope.factor, inv_freq);
  auto smooth =
      (old_context / wavelen - rope.low_freq_factor) / (rope.high_freq_factor - rope.low_freq_factor);
  auto smoothed = (1 - smooth) * scaled / rope.factor + smooth * scaled;
  auto medium = (wavelen >= high_freq_wavelen).logical_and(wavelen <= low_freq_wavelen);
  return torch::where(medium, smoothed, scaled);
}

}  // namespace

Rotary::Rotary(const ModelConfig& config, torch::Device device) : dims_(config.rotary_dims()) {
  const auto& rope = config.rope;
  auto exponents =
      torch::arange(0, dims_, 2, torch::kInt64).to(torch::kFloat32) / static_cast<double>(dims_);
  inv_freq_ = 1.0 / torch::pow(rope.theta, exponents);
  if (rope.scaling == RopeScaling::kLinear) inv_freq_ = inv_freq_ / rope.factor;
  if (rope.scaling == RopeScaling::kLlama3) inv_freq_ = llama3_scale(inv_freq_, rope);
  inv_freq_ = inv_freq_.to(device);
}

torch::Tensor Rotary::apply(const torch::Tensor& x, int64_t offset) const {
  const int64_t seq = x.size(1);
  auto positions =
      torch::arange(offset, offset + seq, torch::TensorOptions(torch::kInt64).device(x.device()))
          .to(torch::kFloat32);
  auto freqs = torch::outer(positions, inv_freq_);  // [T, dims/2]
  auto emb = torch::cat({freqs, freqs}, -1);
  // [T, dims] -> [1, T, 1, dims] to broadcast over batch and heads, in the activations' dtype.
  auto cos = emb.cos().to(x.scalar_type()).unsqueeze(0).unsqueeze(2);
  auto sin = emb.sin().to(x.scalar_type()).unsqueeze(0).unsqueeze(2);
  auto rot = x.narrow(-1, 0, dims_);
  const int64_t half = dims_ / 2;
  auto rotated_half = torch::cat({-rot.narrow(-1, half, half), rot.narrow(-1, 0, half)}, -1);
  auto out = rot * cos + rotated_half * sin;
  if (dims_ == x.size(-1)) return out;
  return torch::cat({out, x.narrow(-1, dims_, x.size(-1) - dims_)}, -1);
}

}  // namespace headscope
