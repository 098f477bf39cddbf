// The CUDA attention statistics against a float64 reference on fresh random inputs, within
// bounds derived from the kernel's float32 arithmetic (tests/support/attention_bounds.h; the
// bf16/fp16 inputs are exact values, their products exact in float32). Outputs are poisoned
// before every launch so unwritten elements show up.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <optional>
#include <random>
#include <sstream>
#include <string>

#include "core/base/error.h"
#include "kernels/attention_stats_backends.h"
#include "tests/support/attention_bounds.h"

namespace headscope {
namespace {

namespace tol = test::tol;

// The kernels' unit roundoff: float32 arithmetic whose exponentials are ex2.approx (relative
// error at most 2^-22, PTX ISA), which also covers the tensor cores' float32 accumulation
// (truncating, at most 2u per addition) and log2f. u = 2^-22 for every rounding is safe.
constexpr double kGpu = 0x1p-22;

// The kernel's bound plus the float64 reference's own (the same formulas with u = 2^-53).
struct StatBounds {
  tol::AttentionBounds gpu, f64;
  torch::Tensor mass(const torch::Tensor& keys) const { return gpu.mass(keys) + f64.mass(keys); }
  torch::Tensor top() const { return gpu.top() + f64.top(); }
  torch::Tensor entropy() const { return gpu.entropy() + f64.entropy(); }
  torch::Tensor block_mass(int64_t b) const { return gpu.block_mass(b) + f64.block_mass(b); }
};

struct Case {
  int64_t seq, heads, kv_heads, head_dim;
  torch::ScalarType dtype;
  std::optional<int64_t> sliding_window;
  int64_t topk, block_size, sink, window;
};

std::ostream& operator<<(std::ostream& os, const Case& c) {
  return os << "T" << c.seq << "_H" << c.heads << "_Hkv" << c.kv_heads << "_D" << c.head_dim
            << (c.dtype == torch::kBFloat16 ? "_bf16" : "_fp16") << "_sw"
            << c.sliding_window.value_or(0) << "_k" << c.topk << "_B" << c.block_size;
}

// Every statistic computed from a full probability matrix p [H, T, T] (float64 or lower).
struct Expected {
  torch::Tensor entropy, sink_mass, local_mass, max_prob, topk_prob, block_mass;
};

Expected stats_from_probs(const torch::Tensor& probs, const AttentionStatsOptions& o) {
  auto p = probs.to(torch::kFloat64);
  const int64_t heads = p.size(0), seq = p.size(1);
  auto j = torch::arange(seq).view({1, 1, seq});
  auto i = torch::arange(seq).view({1, seq, 1});
  Expected e;
  e.entropy = -(p * torch::where(p > 0, p.log(), torch::zeros_like(p))).sum(-1);
  e.sink_mass = (p * (j < o.sink)).sum(-1);
  e.local_mass = (p * (j > i - o.window)).sum(-1);
  const int64_t k = std::min(o.topk, seq);
  e.topk_prob = torch::zeros({heads, seq, o.topk}, torch::kFloat64);
  e.topk_prob.narrow(-1, 0, k).copy_(std::get<0>(p.topk(k, -1)));
  e.max_prob = e.topk_prob.select(-1, 0);
  const int64_t b = o.block_size, nb = (seq + b - 1) / b;
  e.block_mass = torch::zeros({heads, nb, nb}, torch::kFloat64);
  for (int64_t qa = 0; qa < nb; ++qa) {
    for (int64_t kb = 0; kb <= qa; ++kb) {
      const int64_t q0 = qa * b, q1 = std::min(seq, q0 + b), k0 = kb * b,
                    k1 = std::min(seq, k0 + b);
      e.block_mass.select(1, qa).select(1, kb).copy_(
          p.narrow(1, q0, q1 - q0).narrow(2, k0, k1 - k0).sum(-1).mean(-1));
    }
  }
  return e;
}

torch::Tensor allowed_mask(int64_t seq, const std::optional<int64_t>& sliding_window) {
  auto i = torch::arange(seq).unsqueeze(1), j = torch::arange(seq).unsqueeze(0);
  auto allowed = j <= i;
  if (sliding_window) allowed = allowed.logical_and(j > i - *sliding_window);
  return allowed;
}

AttentionStats poisoned_outputs(const torch::Tensor& q, const AttentionStatsOptions& o) {
  const int64_t heads = q.size(0), seq = q.size(1), nb = (seq + o.block_size - 1) / o.block_size;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  auto f32 = torch::TensorOptions(torch::kFloat32).device(q.device());
  auto i32 = torch::TensorOptions(torch::kInt32).device(q.device());
  AttentionStats out;
  out.entropy = torch::full({heads, seq}, nan, f32);
  out.sink_mass = torch::full({heads, seq}, nan, f32);
  out.local_mass = torch::full({heads, seq}, nan, f32);
  out.max_prob = torch::full({heads, seq}, nan, f32);
  out.argmax = torch::full({heads, seq}, -7777, i32);
  out.topk_index = torch::full({heads, seq, o.topk}, -7777, i32);
  out.topk_prob = torch::full({heads, seq, o.topk}, nan, f32);
  out.block_mass = torch::full({heads, nb, nb}, nan, f32);
  return out;
}

// Every output of `got` against the float64 reference within the kernels' bounds. lse_shift
// [H, T] (one pass only): how far the normalisers the kernel was given may be from the exact
// ones, |Δlse| + u|lse| for the kernel's own conversion to base 2; block_mass, the one
// statistic not normalised by the pass's own sum, moves by a factor within e^±shift.
void expect_matches_reference(const AttentionStats& got, const torch::Tensor& q,
                              const torch::Tensor& k, const AttentionStatsOptions& o,
                              const torch::Tensor& lse_shift = {}) {
  for (const auto* t : {&got.entropy, &got.sink_mass, &got.local_mass, &got.max_prob,
                        &got.topk_prob, &got.block_mass}) {
    ASSERT_FALSE(t->isnan().any().item<bool>()) << "an output element was not written";
  }
  ASSERT_TRUE((got.topk_index >= -1).all().item<bool>());
  ASSERT_TRUE((got.argmax >= 0).all().item<bool>());
  const int64_t seq = q.size(1);

  auto allowed = allowed_mask(seq, o.sliding_window);
  const StatBounds b{tol::attention_bounds(q, k, o.scale, allowed, kGpu),
                     tol::attention_bounds(q, k, o.scale, allowed, tol::kFloat64)};
  const auto& p64 = b.f64.probs;
  const Expected ref = stats_from_probs(p64, o);
  auto j = torch::arange(seq).view({1, 1, seq}), i = torch::arange(seq).view({1, seq, 1});
  EXPECT_TRUE(tol::within(got.entropy, ref.entropy, b.entropy(), "entropy"));
  EXPECT_TRUE(tol::within(got.sink_mass, ref.sink_mass, b.mass(j < o.sink), "sink_mass"));
  EXPECT_TRUE(tol::within(got.local_mass, ref.local_mass, b.mass(j > i - o.window), "local_mass"));
  EXPECT_TRUE(tol::within(got.max_prob, ref.max_prob, b.top(), "max_prob"));
  EXPECT_TRUE(tol::within(got.topk_prob, ref.topk_prob, b.top().unsqueeze(-1), "topk_prob"));
  auto block_bound = b.block_mass(o.block_size);
  if (lse_shift.defined()) {
    // Per head, the largest shift of any row (a block entry is a mean over rows).
    const auto worst = std::get<0>(lse_shift.to(torch::kCPU, torch::kFloat64).max(-1));
    block_bound = block_bound + ref.block_mass * torch::expm1(worst).view({-1, 1, 1});
  }
  EXPECT_TRUE(tol::within(got.block_mass, ref.block_mass, block_bound, "block_mass"));
  // Tight enough to see the local window off by one.
  if (seq > 1 && (!o.sliding_window || o.window <= *o.sliding_window)) {
    EXPECT_FALSE(tol::within(got.local_mass, (p64 * (j > i - o.window + 1)).sum(-1),
                             b.mass(j > i - o.window), "local_mass, window - 1"));
  }

  // Indices: the reference probability at each reported key is the reported probability, and
  // exactly the slots past a row's allowed keys hold -1.
  auto index = got.topk_index.cpu().to(torch::kInt64);
  auto at_index = p64.gather(-1, index.clamp_min(0)).masked_fill(index < 0, 0.0);
  EXPECT_TRUE(tol::within(at_index, got.topk_prob, b.top().unsqueeze(-1), "p at topk_index"));
  auto allowed_count = allowed.sum(-1).view({1, seq, 1});
  auto rank = torch::arange(o.topk).view({1, 1, o.topk});
  EXPECT_TRUE(torch::equal(index < 0, (rank >= allowed_count).expand_as(index)));
  // argmax points at a key holding the maximum up to the errors of two probabilities.
  auto at_argmax = p64.gather(-1, got.argmax.cpu().to(torch::kInt64).unsqueeze(-1)).squeeze(-1);
  EXPECT_TRUE(tol::within(at_argmax, ref.max_prob, 2 * b.top(), "p at argmax"));
}

// Exact natural-log normalisers [H, T] (float64, on the CPU).
torch::Tensor exact_lse(const torch::Tensor& q, const torch::Tensor& k,
                        const AttentionStatsOptions& o) {
  auto allowed = allowed_mask(q.size(1), o.sliding_window);
  return tol::attention_bounds(q, k, o.scale, allowed, tol::kFloat64).lse.squeeze(-1);
}

class AttentionStatsCuda : public ::testing::TestWithParam<Case> {};

TEST_P(AttentionStatsCuda, MatchesFloat64Reference_CUDA) {
  const Case c = GetParam();
  const uint64_t seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  torch::manual_seed(seed);
  const auto device = torch::Device(torch::kCUDA);
  // Queries scaled up so some rows are peaked and others flat.
  auto q = (torch::randn({c.heads, c.seq, c.head_dim}) * 2).to(device, c.dtype);
  auto k = torch::randn({c.kv_heads, c.seq, c.head_dim}).to(device, c.dtype);
  const auto o = AttentionStatsOptions()
                     .with_scale(1.0 / std::sqrt(static_cast<double>(c.head_dim)))
                     .with_sliding_window(c.sliding_window)
                     .with_topk(c.topk)
                     .with_block_size(c.block_size)
                     .with_sink(c.sink)
                     .with_window(c.window);
  ASSERT_TRUE(attention_stats_cuda_supports(q, k, o));
  {
    SCOPED_TRACE("two passes");
    AttentionStats got = poisoned_outputs(q, o);
    attention_stats_cuda_into(q, k, o, got);
    expect_matches_reference(got, q, k, o);
  }
  {
    // Given the exact normalisers rounded to float32, as a forward pass would hand them over.
    SCOPED_TRACE("one pass");
    const auto lse64 = exact_lse(q, k, o);
    const auto lse = lse64.to(torch::kFloat32);
    const auto shift = (lse.to(torch::kFloat64) - lse64).abs() + lse64.abs() * 0x1p-24;
    AttentionStats got = poisoned_outputs(q, o);
    attention_stats_cuda_into(q, k, o, got, lse.to(device));
    expect_matches_reference(got, q, k, o, shift);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, AttentionStatsCuda,
    ::testing::Values(Case{300, 4, 2, 64, torch::kBFloat16, std::nullopt, 8, 64, 4, 64},
                      Case{257, 2, 1, 128, torch::kHalf, 100, 16, 128, 4, 32},
                      Case{129, 4, 4, 32, torch::kBFloat16, std::nullopt, 5, 64, 1, 16},
                      Case{1000, 2, 2, 128, torch::kBFloat16, std::nullopt, 16, 128, 7, 200},
                      Case{700, 3, 1, 80, torch::kHalf, 64, 3, 64, 0, 8},
                      Case{1, 1, 1, 64, torch::kBFloat16, std::nullopt, 8, 64, 4, 64}),
    [](const ::testing::TestParamInfo<Case>& info) {
      std::ostringstream name;
      name << info.param;
      return name.str();
    });

// Equal scores everywhere (q = 0): every row is uniform, and ties go to the lowest keys, also
// in interior tiles, whose keys the kernel visits out of order.
TEST(AttentionStatsCudaTies, LowestKeysWin_CUDA) {
  const int64_t seq = 400, topk = 16, window = 150;
  auto q = torch::zeros({2, seq, 64}, torch::TensorOptions(torch::kBFloat16).device(torch::kCUDA));
  auto k = torch::randn({1, seq, 64}).to(torch::kCUDA, torch::kBFloat16);
  for (const auto& sliding : {std::optional<int64_t>(), std::optional<int64_t>(window)}) {
    const auto o = AttentionStatsOptions().with_topk(topk).with_sliding_window(sliding);
    auto got = attention_stats_cuda(q, k, o);
    auto i = torch::arange(seq, torch::kInt32).view({1, seq, 1});
    auto first = sliding ? (i - window + 1).clamp_min(0) : torch::zeros_like(i);
    auto expected = first + torch::arange(topk, torch::kInt32).view({1, 1, topk});
    expected = torch::where(expected <= i, expected, torch::full_like(expected, -1));
    EXPECT_TRUE(torch::equal(got.topk_index.cpu(), expected.expand({2, seq, topk})));
    EXPECT_TRUE(torch::equal(got.argmax.cpu(), first.squeeze(-1).expand({2, seq})));
    // All scores 0: p = 1 / count exactly, only the kernel's exp, log and sums round.
    const auto b = tol::attention_bounds(q, k, o.scale, allowed_mask(seq, sliding), kGpu);
    auto count = (i - first + 1).squeeze(-1).to(torch::kFloat64);
    EXPECT_TRUE(tol::within(got.max_prob, 1.0 / count, b.top(), "max_prob"));
    EXPECT_TRUE(tol::within(got.entropy, count.log(), b.entropy(), "entropy"));
  }
}

// The fused attention's output and normalisers with the one-pass statistics: z within the
// rounding a 16-bit P·V allows, the statistics within the kernels' bounds widened by how far the
// attention's normalisers are from the exact ones (measured here, not assumed).
TEST(AttentionWithStatsCuda, FlashOutputAndOnePassStatistics_CUDA) {
  const uint64_t seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  torch::manual_seed(seed);
  struct Shape {
    int64_t seq, heads, kv_heads, head_dim;
    torch::ScalarType dtype;
    int64_t block_size;
  };
  for (const Shape& c :
       {Shape{1000, 4, 2, 128, torch::kBFloat16, 64}, Shape{333, 2, 2, 64, torch::kHalf, 128},
        Shape{200, 4, 1, 80, torch::kBFloat16, 128}}) {
    SCOPED_TRACE("T " + std::to_string(c.seq) + " D " + std::to_string(c.head_dim));
    const auto device = torch::Device(torch::kCUDA);
    auto q = (torch::randn({c.heads, c.seq, c.head_dim}) * 2).to(device, c.dtype);
    auto k = torch::randn({c.kv_heads, c.seq, c.head_dim}).to(device, c.dtype);
    auto v = torch::randn({c.kv_heads, c.seq, c.head_dim}).to(device, c.dtype);
    const auto o = AttentionStatsOptions()
                       .with_scale(1.0 / std::sqrt(static_cast<double>(c.head_dim)))
                       .with_block_size(c.block_size);
    auto fused = attention_with_stats(q, k, v, o);
    ASSERT_TRUE(fused.has_value());
    ASSERT_EQ(fused->z.sizes(), q.sizes());
    EXPECT_TRUE(fused->stats.entropy.is_cuda());

    // z = P·V in float64 from the exact probabilities. Fused attention rounds P to the input
    // type (unit roundoff u) before P·V and z once more: |Δz| <= u Σ p|v| + u |z|, doubled for the
    // float32 accumulation and exponentials.
    const double u = c.dtype == torch::kBFloat16 ? 0x1p-8 : 0x1p-11;
    auto allowed = allowed_mask(c.seq, std::nullopt);
    const auto p64 = tol::attention_bounds(q, k, o.scale, allowed, tol::kFloat64).probs;
    const int64_t group = c.heads / c.kv_heads;
    auto v64 = v.to(torch::kCPU, torch::kFloat64).repeat_interleave(group, 0);
    auto z64 = torch::matmul(p64, v64);
    auto z_bound = 2 * u * (torch::matmul(p64, v64.abs()) + z64.abs());
    EXPECT_TRUE(tol::within(fused->z.to(torch::kCPU, torch::kFloat64), z64, z_bound, "z"));

    // The normalisers the attention computed, against the exact ones.
    const auto lse64 = exact_lse(q, k, o);
    const auto shift =
        (fused->lse.to(torch::kCPU, torch::kFloat64) - lse64).abs() + lse64.abs() * 0x1p-24;
    expect_matches_reference(fused->stats, q, k, o, shift);
  }
}

TEST(AttentionWithStatsCuda, NoFusedPathForWindowsOrFloat32_CUDA) {
  auto q = torch::randn({2, 100, 64}, torch::TensorOptions().device(torch::kCUDA));
  const auto windowed = AttentionStatsOptions().with_sliding_window(50);
  auto h = q.to(torch::kBFloat16);
  EXPECT_FALSE(attention_with_stats(h, h, h, windowed).has_value());
  EXPECT_FALSE(attention_with_stats(q, q, q, {}).has_value());
  EXPECT_THROW(attention_with_stats(h, h, h.narrow(1, 0, 50), {}), InvalidInput);
}

// attention_stats() on CUDA tensors: the kernels' results, copied to the host.
TEST(AttentionStatsCudaDispatch, RoutesCudaTensorsToTheKernels_CUDA) {
  torch::manual_seed(11);
  auto q = torch::randn({4, 200, 64}).to(torch::kCUDA, torch::kBFloat16);
  auto k = torch::randn({2, 200, 64}).to(torch::kCUDA, torch::kBFloat16);
  const auto o = AttentionStatsOptions().with_scale(0.125);
  auto routed = attention_stats(q, k, o);
  auto direct = attention_stats_cuda(q, k, o);
  EXPECT_TRUE(routed.entropy.device().is_cpu());
  EXPECT_TRUE(torch::equal(routed.topk_index, direct.topk_index.cpu()));
  EXPECT_TRUE(torch::equal(routed.block_mass, direct.block_mass.cpu()));
  // The CPU reference on the same bf16 values: within the sum of the two computations' bounds.
  auto cpu = attention_stats_cpu(q, k, o);
  auto allowed = allowed_mask(200, std::nullopt);
  const StatBounds b{tol::attention_bounds(q, k, o.scale, allowed, kGpu),
                     tol::attention_bounds(q, k, o.scale, allowed, tol::kFloat32)};
  EXPECT_TRUE(tol::within(routed.entropy, cpu.entropy, b.entropy(), "entropy"));
  EXPECT_TRUE(tol::within(routed.topk_prob, cpu.topk_prob, b.top().unsqueeze(-1), "topk_prob"));
  EXPECT_TRUE(
      tol::within(routed.block_mass, cpu.block_mass, b.block_mass(o.block_size), "block_mass"));
  // Near ties may go either way: each argmax holds the row's maximum up to two errors.
  const auto p64 = tol::attention_bounds(q, k, o.scale, allowed, tol::kFloat64).probs;
  const auto max_prob = std::get<0>(p64.max(-1));
  for (const auto* argmax : {&routed.argmax, &cpu.argmax}) {
    auto at = p64.gather(-1, argmax->to(torch::kInt64).unsqueeze(-1)).squeeze(-1);
    EXPECT_TRUE(tol::within(at, max_prob, 2 * b.top(), "p at argmax"));
  }
}

TEST(AttentionStatsCudaDispatch, UnsupportedCudaInputsTakeTheCpuReference_CUDA) {
  torch::manual_seed(12);
  auto q = torch::randn({2, 90, 16}).to(torch::kCUDA);  // float32: not a kernel dtype
  const auto o = AttentionStatsOptions().with_block_size(32);
  EXPECT_FALSE(attention_stats_cuda_supports(q, q, o));
  auto routed = attention_stats(q, q, o);
  auto cpu = attention_stats_cpu(q.cpu(), q.cpu(), o);
  EXPECT_TRUE(torch::equal(routed.block_mass, cpu.block_mass));
}

TEST(AttentionStatsCudaDispatch, KernelsRejectHostTensors) {
  auto q = torch::randn({2, 8, 64}).to(torch::kBFloat16);
  EXPECT_FALSE(attention_stats_cuda_supports(q, q, {}));
  EXPECT_THROW(attention_stats_cuda(q, q, {}), InvalidInput);
}

}  // namespace
}  // namespace headscope
