// The plain-data interface between the LibTorch wrapper (sparse_attention_cuda.cpp) and the
// per-head sparse attention kernel (sparse_attention_kernel.cu). No LibTorch and no CUDA headers
// here, so the kernel builds with nvcc alone.
#pragma once

#include <cstdint>
#include <string>

namespace headscope::cuda {

constexpr int kSparseTile =
    64;  // queries and keys per tile; block-sparse block sizes are multiples

// Per query head, int32 [H, 4]: kind, sink, window, block size.
enum SparseHeadField { kSparseKind = 0, kSparseSink, kSparseWindow, kSparseBlock, kSparseFields };
enum SparseHeadKind { kSparseFull = 0, kSparseStreaming = 1, kSparseBlockSparse = 2 };

struct SparseAttentionParams {
  // q [B, H, T, D], k and v [B, Hkv, T, D], out [B, H, T, D]: last dim contiguous, strides in
  // elements and multiples of 8 (16-byte loads), pointers 16-byte aligned.
  const void* q = nullptr;
  const void* k = nullptr;
  const void* v = nullptr;
  void* out = nullptr;
  int64_t q_batch_stride = 0, q_head_stride = 0, q_token_stride = 0;
  int64_t k_batch_stride = 0, k_head_stride = 0, k_token_stride = 0;
  int64_t v_batch_stride = 0, v_head_stride = 0, v_token_stride = 0;
  int64_t out_batch_stride = 0, out_head_stride = 0, out_token_stride = 0;
  int batch = 0, heads = 0, kv_heads = 0, seq = 0, head_dim = 0;  // head_dim 64 or 128
  bool bf16 = true;                                               // else fp16
  float scale = 1.0f;
  const int32_t* head_config = nullptr;  // [H, kSparseFields]
  // Block-sparse heads: the earlier key blocks query block a reads, ascending, -1 after the
  // last: [B, H, max_query_blocks, max_selected].
  const int32_t* selected = nullptr;
  int max_query_blocks = 0, max_selected = 0;
};

// Runs the kernel on `stream` (a cudaStream_t; null for the default stream). Returns an empty
// string or the CUDA error.
std::string sparse_attention_launch(const SparseAttentionParams& params, void* stream);

}  // namespace headscope::cuda
