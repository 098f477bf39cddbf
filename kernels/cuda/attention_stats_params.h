// The plain-data interface between the LibTorch wrapper (attention_stats_cuda.cpp) and the CUDA
// kernels (attention_stats_kernel.cu). No LibTorch and no CUDA headers here, so the kernels
// build with nvcc alone (CI compiles them on a machine whose LibTorch has no CUDA).
#pragma once

#include <cstdint>
#include <string>

namespace headscope::cuda {

// Sizes the kernels are instantiated for; the wrapper pads other head dims with zeros.
constexpr int kStatsMaxTopk = 16;
constexpr int kStatsTile = 64;  // queries and keys per tile; block sizes are multiples of it
constexpr double kLog2eDouble = 1.4426950408889634;  // natural-log normalisers to base 2

struct AttentionStatsParams {
  // q [H, T, D] and k [Hkv, T, D] with the last dim contiguous; strides in elements, multiples
  // of 8 (16-byte loads), pointers 16-byte aligned.
  const void* q = nullptr;
  const void* k = nullptr;
  int64_t q_head_stride = 0, q_token_stride = 0;
  int64_t k_head_stride = 0, k_token_stride = 0;
  int heads = 0, kv_heads = 0, seq = 0, head_dim = 0;  // head_dim 64 or 128
  bool bf16 = true;                                    // else fp16
  float scale = 1.0f;
  int sliding_window = 0;  // 0: none
  int sink = 0, window = 1, topk = 1, block_size = 64;

  // Outputs, contiguous float32/int32: [H, T] rows, [H, T, topk] ranks, [H, nb, nb] blocks.
  float* entropy = nullptr;
  float* sink_mass = nullptr;
  float* local_mass = nullptr;
  float* max_prob = nullptr;
  int32_t* argmax = nullptr;
  int32_t* topk_index = nullptr;
  float* topk_prob = nullptr;
  float* block_mass = nullptr;  // null: skip the block mass (two passes only)
  // [H, T]: log2 of each row's normaliser of the base-2 scores s·scale·log2(e). An input when
  // lse2_given (one pass, block mass required), else a workspace the first pass fills.
  float* lse2 = nullptr;
  bool lse2_given = false;
};

// Runs the statistics on `stream` (a cudaStream_t; null for the default stream): one pass when
// lse2_given, else the statistics pass and, when block_mass is set, the block-mass pass.
// Returns an empty string or the CUDA error.
std::string attention_stats_launch(const AttentionStatsParams& params, void* stream);

}  // namespace headscope::cuda
