// The CUDA sparse attention against the exact (float64) attention under the same masks on fresh
// random inputs with every head kind in one launch, and an all-full config against dense causal
// attention, within bounds derived from the kernel's arithmetic (tests/support/attention_bounds.h). The output memory is poisoned with NaN before each launch (through the
// caching allocator, see poison_next_output) so unwritten elements show up.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "kernels/sparse_attention_backends.h"
#include "tests/support/attention_bounds.h"

namespace headscope {
namespace {

constexpr auto full = &SparseHeadConfig::full;
constexpr auto streaming = &SparseHeadConfig::streaming;
constexpr auto block_sparse = &SparseHeadConfig::block_sparse;

// Eight heads covering every kind: sinks and windows that cut tiles mid-way, a diagonal-only
// head, block sizes 64 and 128 with few, no, and all earlier blocks.
std::vector<SparseHeadConfig> mixed_heads() {
  return {full(),
          streaming(4, 48),
          streaming(0, 1),
          streaming(70, 100),
          block_sparse(64, 2),
          block_sparse(128, 1),
          block_sparse(64, 0),
          block_sparse(64, 1000)};
}

struct Case {
  int64_t batch, seq, kv_heads, head_dim;
  torch::ScalarType dtype;
};

std::ostream& operator<<(std::ostream& os, const Case& c) {
  return os << "B" << c.batch << "_T" << c.seq << "_Hkv" << c.kv_heads << "_D" << c.head_dim
            << (c.dtype == torch::kBFloat16 ? "_bf16" : "_fp16");
}

// The kernel's output comes from torch::empty; a freed block of the same size is what the
// caching allocator hands out next, so filling one with NaN poisons the output memory.
void poison_next_output(const torch::Tensor& q) {
  auto poison = torch::empty(q.sizes(), q.options());
  poison.fill_(std::numeric_limits<double>::quiet_NaN());
}

namespace tol = test::tol;

// The kernel's float32 arithmetic: ex2.approx (relative error at most 2^-22, PTX ISA) bounds
// every rounding, the tensor cores' truncating float32 accumulation (at most 2u) included.
constexpr double kGpu = 0x1p-22;

// softmax(scale q kᵀ masked by `keep`) v, keep: bool [B, H, T, T]: the exact value (float64) and
// the bound on a computation in float32 whose probabilities, and output, are rounded to the
// input dtype (P is the A operand of P·V): 2 u_in Σ p |v| on top of the float32 bound. `scores`
// adds the input dtype's rounding of stored scores (the reference path run in bf16/fp16), and
// the float64 reference's own bound is added.
struct Attended {
  torch::Tensor exact, bound;
};

Attended masked_reference(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                          const torch::Tensor& keep, double scale, bool rounded_scores = false) {
  const int64_t group = q.size(1) / k.size(1);
  const double u_in = tol::unit_roundoff(q.scalar_type());
  auto vv = v.to(torch::kCPU, torch::kFloat64).repeat_interleave(group, 1);
  // A score stored in the input dtype errs by u_in |s| <= u_in scale |q|·|k|: input_rel u_in / 2.
  const auto gpu =
      tol::attention_bounds(q, k, scale, keep, kGpu, rounded_scores ? u_in / 2 : 0.0);
  const auto f64 = tol::attention_bounds(q, k, scale, keep, tol::kFloat64);
  const auto rounding = 2.0 * u_in * torch::matmul(f64.probs, vv.abs());
  return {torch::matmul(f64.probs, vv), gpu.attend(vv) + rounding + f64.attend(vv)};
}

torch::Tensor causal(int64_t seq) {
  return torch::ones({seq, seq}, torch::kBool).tril();
}

class SparseAttentionCuda : public ::testing::TestWithParam<Case> {};

TEST_P(SparseAttentionCuda, MatchesCpuReference_CUDA) {
  const Case c = GetParam();
  const uint64_t seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  torch::manual_seed(seed);
  const auto device = torch::Device(torch::kCUDA);
  const auto heads = mixed_heads();
  const int64_t n_heads = static_cast<int64_t>(heads.size());
  auto q = torch::randn({c.batch, n_heads, c.seq, c.head_dim}).to(device, c.dtype);
  auto k = torch::randn({c.batch, c.kv_heads, c.seq, c.head_dim}).to(device, c.dtype);
  auto v = torch::randn({c.batch, c.kv_heads, c.seq, c.head_dim}).to(device, c.dtype);
  const double scale = 1.5 / std::sqrt(static_cast<double>(c.head_dim));
  ASSERT_TRUE(sparse_attention_cuda_supports(q, k, v, heads));

  poison_next_output(q);
  auto got = sparse_attention_cuda(q, k, v, heads, scale);
  ASSERT_EQ(got.sizes(), q.sizes());
  ASSERT_EQ(got.scalar_type(), c.dtype);
  ASSERT_FALSE(got.isnan().any().item<bool>()) << "an output element was not written";

  // The kept entries as the CPU reference selects them, in float32 from the same values.
  const auto q32 = q.to(torch::kCPU, torch::kFloat32), k32 = k.to(torch::kCPU, torch::kFloat32);
  auto keep = sparse_attention_mask(q32, k32, heads);
  const auto ref = masked_reference(q, k, v, keep, scale);
  for (int64_t h = 0; h < n_heads; ++h) {
    EXPECT_TRUE(tol::within(got.select(1, h), ref.exact.select(1, h), ref.bound.select(1, h),
                            "head " + std::to_string(h)));
  }
  // Tight enough to see a streaming head's window one key short.
  auto short_window = heads;
  short_window[1] = streaming(4, 47);
  const auto shorter =
      masked_reference(q, k, v, sparse_attention_mask(q32, k32, short_window), scale);
  if (c.seq > 48) {
    EXPECT_FALSE(tol::within(got.select(1, 1), shorter.exact.select(1, 1), ref.bound.select(1, 1),
                             "head 1, window - 1"));
  }
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, SparseAttentionCuda,
    ::testing::Values(Case{2, 300, 2, 128, torch::kBFloat16}, Case{1, 520, 8, 64, torch::kBFloat16},
                      Case{2, 300, 4, 64, torch::kHalf}, Case{1, 777, 1, 128, torch::kHalf},
                      Case{1, 64, 2, 128, torch::kBFloat16}, Case{1, 5, 2, 64, torch::kBFloat16},
                      Case{2, 200, 4, 32, torch::kBFloat16}),
    [](const ::testing::TestParamInfo<Case>& info) {
      std::ostringstream os;
      os << info.param;
      return os.str();
    });

// All heads full: plain causal attention, computed densely here.
TEST(SparseAttentionCudaFull, EqualsDenseCausalAttention_CUDA) {
  torch::manual_seed(3);
  const auto device = torch::Device(torch::kCUDA);
  const int64_t seq = 400, n_heads = 4, kv_heads = 2, dim = 128;
  auto q = torch::randn({1, n_heads, seq, dim}).to(device, torch::kBFloat16);
  auto k = torch::randn({1, kv_heads, seq, dim}).to(device, torch::kBFloat16);
  auto v = torch::randn({1, kv_heads, seq, dim}).to(device, torch::kBFloat16);
  const double scale = 1.0 / std::sqrt(static_cast<double>(dim));
  poison_next_output(q);
  auto got = sparse_attention_cuda(q, k, v, std::vector<SparseHeadConfig>(n_heads, full()), scale);

  EXPECT_FALSE(got.isnan().any().item<bool>());
  const auto dense = masked_reference(q, k, v, causal(seq).expand({1, n_heads, seq, seq}), scale);
  EXPECT_TRUE(tol::within(got, dense.exact, dense.bound, "all full against dense"));
}

// sparse_attention() sends supported CUDA tensors to the kernel (strided views included) and
// the rest (here a block size the kernel does not take) to the reference, on the GPU.
TEST(SparseAttentionCudaDispatch, RoutesCudaTensors_CUDA) {
  torch::manual_seed(5);
  const auto device = torch::Device(torch::kCUDA);
  const int64_t seq = 200, n_heads = 8, dim = 64;
  // [B, T, H, D] transposed: heads strided, the layout models produce.
  auto q = torch::randn({1, seq, n_heads, dim}).to(device, torch::kBFloat16).transpose(1, 2);
  auto k = torch::randn({1, seq, 2, dim}).to(device, torch::kBFloat16).transpose(1, 2);
  auto v = torch::randn({1, seq, 2, dim}).to(device, torch::kBFloat16).transpose(1, 2);
  const auto heads = mixed_heads();
  ASSERT_TRUE(sparse_attention_cuda_supports(q, k, v, heads));
  auto routed = sparse_attention(q, k, v, heads, 0.125);
  EXPECT_TRUE(routed.is_cuda());
  EXPECT_TRUE(torch::equal(
      routed, sparse_attention_cuda(q.contiguous(), k.contiguous(), v.contiguous(), heads, 0.125)));

  auto odd = heads;
  odd[4] = block_sparse(32, 2);
  EXPECT_FALSE(sparse_attention_cuda_supports(q, k, v, odd));
  auto fallback = sparse_attention(q, k, v, odd, 0.125);
  // The reference path in bf16 on the GPU: scores, probabilities and output stored in bf16.
  const auto ref = masked_reference(
      q, k, v,
      sparse_attention_mask(q.to(torch::kCPU, torch::kFloat32), k.to(torch::kCPU, torch::kFloat32),
                            odd),
      0.125, /*rounded_scores=*/true);
  EXPECT_TRUE(fallback.is_cuda());
  EXPECT_TRUE(tol::within(fallback, ref.exact, ref.bound, "fallback"));
  EXPECT_FALSE(sparse_attention_cuda_supports(q.to(torch::kFloat32), k.to(torch::kFloat32),
                                              v.to(torch::kFloat32), heads));
  EXPECT_FALSE(sparse_attention_cuda_supports(q.cpu(), k.cpu(), v.cpu(), heads));
}

}  // namespace
}  // namespace headscope
