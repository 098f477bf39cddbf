// The one-pass statistics kernel alone, without LibTorch: random bf16 q [32, T, 128] and
// k [8, T, 128] (GQA 4), normalisers from the two-pass kernel, then the one pass timed with CUDA
// events. Built against a tree's kernels/cuda/attention_stats_kernel.cu by
// bench/stats_kernel_ab.sh, so two versions of the kernel are compared in one run in seconds of
// build time, not a whole LibTorch build.
//   stats_kernel_harness LABEL T [TOPK=8] [REPS=5] [AMPLITUDE=2] [BLOCK=128]
// Prints one JSON line: median and minimum milliseconds, and checksums of the outputs (two
// versions that compute the same statistics print the same sums).
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "kernels/cuda/attention_stats_params.h"

namespace {

// Uniform values in [-amplitude, amplitude] from a hash of the index (no cuRAND dependency).
__global__ void fill(__nv_bfloat16* x, int64_t n, uint32_t seed, float amplitude) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n;
       i += int64_t{gridDim.x} * blockDim.x) {
    uint32_t h = static_cast<uint32_t>(i) * 2654435761u ^ seed;
    h ^= h >> 15, h *= 2246822519u, h ^= h >> 13, h *= 3266489917u, h ^= h >> 16;
    x[i] = __float2bfloat16(amplitude * (static_cast<float>(h) / 4294967296.0f * 2.0f - 1.0f));
  }
}

void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess) {
    std::fprintf(stderr, "stats_kernel_harness: %s: %s\n", what, cudaGetErrorString(status));
    std::exit(1);
  }
}

template <typename V>
V* device_array(size_t n) {
  V* p = nullptr;
  check(cudaMalloc(&p, n * sizeof(V)), "cudaMalloc");
  return p;
}

template <typename V>
std::vector<V> to_host(const V* p, size_t n) {
  std::vector<V> h(n);
  check(cudaMemcpy(h.data(), p, n * sizeof(V), cudaMemcpyDeviceToHost), "cudaMemcpy");
  return h;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s LABEL T [TOPK] [REPS] [AMPLITUDE] [BLOCK]\n", argv[0]);
    return 2;
  }
  const char* label = argv[1];
  const int T = std::atoi(argv[2]);
  const int topk = argc > 3 ? std::atoi(argv[3]) : 8;
  const int reps = argc > 4 ? std::atoi(argv[4]) : 5;
  const float amplitude = argc > 5 ? static_cast<float>(std::atof(argv[5])) : 2.0f;
  const int block = argc > 6 ? std::atoi(argv[6]) : 128;
  const int H = 32, Hkv = 8, D = 128;
  if (T <= 0 || topk < 1 || topk > 16 || reps < 1 || (block != 64 && block != 128)) {
    std::fprintf(stderr, "stats_kernel_harness: T > 0, TOPK in 1..16, REPS > 0, BLOCK 64|128\n");
    return 2;
  }
  const size_t rows = size_t{H} * T, nb = (T + block - 1) / block;
  auto* q = device_array<__nv_bfloat16>(rows * D);
  auto* k = device_array<__nv_bfloat16>(size_t{Hkv} * T * D);
  fill<<<1024, 256>>>(q, int64_t(rows * D), 1, amplitude);
  fill<<<1024, 256>>>(k, int64_t{Hkv} * T * D, 2, amplitude);

  headscope::cuda::AttentionStatsParams p;
  p.q = q, p.k = k;
  p.q_head_stride = int64_t{T} * D, p.q_token_stride = D;
  p.k_head_stride = int64_t{T} * D, p.k_token_stride = D;
  p.heads = H, p.kv_heads = Hkv, p.seq = T, p.head_dim = D, p.bf16 = true;
  p.scale = 1.0f / std::sqrt(static_cast<float>(D));
  p.sink = 4, p.window = 64, p.topk = topk, p.block_size = block;
  p.entropy = device_array<float>(rows), p.sink_mass = device_array<float>(rows);
  p.local_mass = device_array<float>(rows), p.max_prob = device_array<float>(rows);
  p.argmax = device_array<int32_t>(rows), p.lse2 = device_array<float>(rows);
  p.topk_index = device_array<int32_t>(rows * topk), p.topk_prob = device_array<float>(rows * topk);
  float* block_mass = device_array<float>(size_t{H} * nb * nb);
  auto launch = [&] {
    const std::string error = headscope::cuda::attention_stats_launch(p, nullptr);
    if (!error.empty()) {
      std::fprintf(stderr, "stats_kernel_harness: %s\n", error.c_str());
      std::exit(1);
    }
  };
  launch();  // two passes without block mass: the normalisers the one pass is given
  p.block_mass = block_mass, p.lse2_given = true;
  launch();  // warm-up
  check(cudaDeviceSynchronize(), "warm-up");

  cudaEvent_t begin, end;
  cudaEventCreate(&begin), cudaEventCreate(&end);
  std::vector<float> ms;
  for (int r = 0; r < reps; ++r) {
    cudaEventRecord(begin);
    launch();
    cudaEventRecord(end);
    check(cudaEventSynchronize(end), "timed run");
    float t = 0.0f;
    cudaEventElapsedTime(&t, begin, end);
    ms.push_back(t);
  }
  std::sort(ms.begin(), ms.end());
  double entropy = 0.0, mass = 0.0;
  long long index_sum = 0;
  for (float v : to_host(p.entropy, rows)) entropy += v;
  for (float v : to_host(block_mass, size_t{H} * nb * nb)) mass += v;
  for (int32_t v : to_host(p.topk_index, rows * topk)) index_sum += v;
  std::printf(
      "{\"kernel\": \"%s\", \"T\": %d, \"heads\": %d, \"kv_heads\": %d, \"dim\": %d, \"block\": "
      "%d, "
      "\"topk\": %d, \"amplitude\": %g, \"one_pass_ms\": %.3f, \"one_pass_min_ms\": %.3f, "
      "\"entropy_sum\": %.6e, \"block_mass_sum\": %.6e, \"topk_index_sum\": %lld}\n",
      label, T, H, Hkv, D, block, topk, amplitude, ms[ms.size() / 2], ms[0], entropy, mass,
      index_sum);
  return 0;
}
