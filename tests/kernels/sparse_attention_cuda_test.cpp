// The CUDA sparse attention against the CPU reference (the same masks, float32 torch ops) on
// fresh random inputs with every head kind in one launch, and an all-full config against dense
// causal attention. The output memory is poisoned with NaN before each launch (through the
// caching allocator, see poison_next_output) so unwritten elements show up.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "kernels/sparse_attention_backends.h"

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

double max_err(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kCPU, torch::kFloat64) - b.to(torch::kCPU, torch::kFloat64))
      .abs()
      .max()
      .item<double>();
}

// Largest error the output dtype allows on outputs of magnitude ~1 (averages of N(0, 1) values):
// a few units of the output rounding plus the rounding of the probabilities before P·V.
double tolerance(torch::ScalarType dtype) {
  return dtype == torch::kBFloat16 ? 3e-2 : 4e-3;
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

  // The reference on the same device in float32: the block selection runs the same ops there.
  auto ref = sparse_attention_cpu(q.to(torch::kFloat32), k.to(torch::kFloat32),
                                  v.to(torch::kFloat32), heads, scale);
  for (int64_t h = 0; h < n_heads; ++h) {
    const double err = max_err(got.select(1, h), ref.select(1, h));
    EXPECT_LE(err, tolerance(c.dtype)) << "head " << h;
  }
  // Rounding errors average out: the mean error stays near the output's rounding.
  const double mean_err =
      (got.to(torch::kFloat64) - ref.to(torch::kFloat64)).abs().mean().item<double>();
  EXPECT_LE(mean_err, tolerance(c.dtype) / 6);
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

  auto kx = k.to(torch::kFloat64).repeat_interleave(n_heads / kv_heads, 1);
  auto vx = v.to(torch::kFloat64).repeat_interleave(n_heads / kv_heads, 1);
  auto scores = torch::matmul(q.to(torch::kFloat64), kx.transpose(2, 3)) * scale;
  auto later = torch::ones({seq, seq}, torch::kBool).triu(1).to(device);
  auto dense = torch::matmul(
      torch::softmax(scores.masked_fill(later, -std::numeric_limits<double>::infinity()), -1), vx);
  EXPECT_FALSE(got.isnan().any().item<bool>());
  EXPECT_LE(max_err(got, dense), tolerance(torch::kBFloat16));
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
  auto ref = sparse_attention_cpu(q.to(torch::kFloat32), k.to(torch::kFloat32),
                                  v.to(torch::kFloat32), odd, 0.125);
  EXPECT_TRUE(fallback.is_cuda());
  EXPECT_LE(max_err(fallback, ref), tolerance(torch::kBFloat16));
  EXPECT_FALSE(sparse_attention_cuda_supports(q.to(torch::kFloat32), k.to(torch::kFloat32),
                                              v.to(torch::kFloat32), heads));
  EXPECT_FALSE(sparse_attention_cuda_supports(q.cpu(), k.cpu(), v.cpu(), heads));
}

}  // namespace
}  // namespace headscope
