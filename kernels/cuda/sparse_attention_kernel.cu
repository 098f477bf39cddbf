// Per-head sparse attention forward on the GPU (kernels/sparse_attention.h defines the masks).
//
// One CTA per (64-query tile, head, batch). Thread 0 first lists the 64-key tiles the query
// tile can read: every causal tile for a full head, the sink and window tiles for a streaming
// head, the selected earlier blocks plus the own block for a block-sparse head (block sizes are
// multiples of 64, so a tile is wholly kept or wholly dropped). Only listed tiles are loaded and
// scored, so the work follows the kept fraction. Per tile: S = Q·Kᵀ on the tensor cores (WMMA,
// fp32 out) into shared memory, an online softmax over the tile with exact per-entry masks
// (causal, sink/window), P rounded to the input type, P·V on the tensor cores, and a rescaled
// fp32 accumulator in registers. Each warp owns 16 query rows end to end, so only the K/V tile
// loads need the whole CTA. K tiles are double-buffered with cp.async; V loads while S is
// computed. Scores are in base 2 (scale·log2 e folded in) so each exponential is one exp2.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <mma.h>

#include "kernels/cuda/sparse_attention_params.h"

namespace headscope::cuda {
namespace {

using namespace nvcuda;

constexpr int kWarps = 4;
constexpr int kThreads = kWarps * 32;
constexpr int kTile = kSparseTile;
constexpr int kHalf = kTile / 2;     // keys (and output columns per 64) per thread
constexpr int kScoreLd = kTile + 4;  // float pitch of the score / P·V tile: 4 mod 32 banks
constexpr int kProbLd = kTile + 8;   // element pitch of the P tile
constexpr float kLog2e = 1.4426950408889634f;

// Row pitch of a [64, D] operand tile: 16 bytes of padding keep WMMA loads off one bank.
template <int D>
__host__ __device__ constexpr int operand_ld() {
  return D + 8;
}

template <typename T, int D>
__host__ __device__ constexpr size_t operand_tile_bytes() {
  return size_t{kTile} * operand_ld<D>() * sizeof(T);
}

template <typename T>
__host__ __device__ constexpr size_t prob_tile_bytes() {
  return size_t{kTile} * kProbLd * sizeof(T);
}

__host__ __device__ constexpr size_t score_tile_bytes() {
  return size_t{kTile} * kScoreLd * sizeof(float);
}

// Q, two K buffers, V, P, the score tile, then the tile list (one int per causal key tile).
template <typename T, int D>
size_t kernel_smem(int seq) {
  const size_t list = size_t((seq + kTile - 1) / kTile) * sizeof(int);
  return 4 * operand_tile_bytes<T, D>() + prob_tile_bytes<T>() + score_tile_bytes() + list;
}

__device__ __forceinline__ __nv_bfloat16 from_float(float x, __nv_bfloat16*) {
  return __float2bfloat16(x);
}
__device__ __forceinline__ __half from_float(float x, __half*) {
  return __float2half(x);
}

// Rows [row0, row0 + 64) of a [T, D] matrix into shared memory through cp.async, as one commit
// group; rows at or past `seq` are zero-filled (a source size of 0).
template <typename T, int D>
__device__ void load_tile_async(T* dst, const T* src, int64_t token_stride, int row0, int seq) {
  constexpr int kVectors = D / 8;  // 16-byte vectors per row
  for (int v = threadIdx.x; v < kTile * kVectors; v += kThreads) {
    const int r = v / kVectors, c = (v % kVectors) * 8;
    const bool in_range = row0 + r < seq;
    const T* from = src + (in_range ? int64_t{row0 + r} * token_stride + c : 0);
    const auto to = static_cast<unsigned>(__cvta_generic_to_shared(dst + r * operand_ld<D>() + c));
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(to), "l"(from),
                 "r"(in_range ? 16 : 0)
                 : "memory");
  }
  asm volatile("cp.async.commit_group;\n" ::: "memory");
}

// Waits until at most `pending` of this thread's newest commit groups are still in flight.
template <int pending>
__device__ __forceinline__ void cp_async_wait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(pending) : "memory");
}

// 2^x on the special-function unit; 2^-inf = 0.
__device__ __forceinline__ float fast_exp2(float x) {
  float y;
  asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
  return y;
}

// This warp's 16 rows of scores[64, 64] = q_tile · k_tileᵀ.
template <typename T, int D>
__device__ void score_rows(const T* q_tile, const T* k_tile, float* scores, int warp) {
  constexpr int ld = operand_ld<D>();
  wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc[kTile / 16];
#pragma unroll
  for (int n = 0; n < kTile / 16; ++n) wmma::fill_fragment(acc[n], 0.0f);
#pragma unroll
  for (int d = 0; d < D; d += 16) {
    wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> a;
    wmma::load_matrix_sync(a, q_tile + warp * 16 * ld + d, ld);
#pragma unroll
    for (int n = 0; n < kTile / 16; ++n) {
      // k_tile row-major [key, d] is Kᵀ column-major.
      wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::col_major> b;
      wmma::load_matrix_sync(b, k_tile + n * 16 * ld + d, ld);
      wmma::mma_sync(acc[n], a, b, acc[n]);
    }
  }
#pragma unroll
  for (int n = 0; n < kTile / 16; ++n) {
    wmma::store_matrix_sync(scores + warp * 16 * kScoreLd + n * 16, acc[n], kScoreLd,
                            wmma::mem_row_major);
  }
}

// This warp's 16 rows of out[64, 64] = p_tile · v_tile[:, col0 : col0 + 64].
template <typename T, int D>
__device__ void value_rows(const T* p_tile, const T* v_tile, int col0, float* out, int warp) {
  constexpr int ld = operand_ld<D>();
  wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc[kTile / 16];
#pragma unroll
  for (int n = 0; n < kTile / 16; ++n) wmma::fill_fragment(acc[n], 0.0f);
#pragma unroll
  for (int kk = 0; kk < kTile; kk += 16) {
    wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> a;
    wmma::load_matrix_sync(a, p_tile + warp * 16 * kProbLd + kk, kProbLd);
#pragma unroll
    for (int n = 0; n < kTile / 16; ++n) {
      wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::row_major> b;
      wmma::load_matrix_sync(b, v_tile + kk * ld + col0 + n * 16, ld);
      wmma::mma_sync(acc[n], a, b, acc[n]);
    }
  }
#pragma unroll
  for (int n = 0; n < kTile / 16; ++n) {
    wmma::store_matrix_sync(out + warp * 16 * kScoreLd + n * 16, acc[n], kScoreLd,
                            wmma::mem_row_major);
  }
}

// Lists the key tiles query tile `qt` reads, ascending; returns how many. Every list holds the
// diagonal tile qt, so it is never empty.
__device__ int list_tiles(const SparseAttentionParams& p, int batch, int head, int qt, int kind,
                          int sink, int window, int block, int* tiles) {
  const int row0 = qt * kTile;
  int n = 0;
  if (kind == kSparseBlockSparse) {
    const int per_block = block / kTile, a = row0 / block;
    const int32_t* selected =
        p.selected +
        ((int64_t{batch} * p.heads + head) * p.max_query_blocks + a) * int64_t{p.max_selected};
    for (int e = 0; e < p.max_selected && selected[e] >= 0; ++e) {
      // Earlier blocks (selected[e] < a): whole blocks, all before the own block.
      for (int t = selected[e] * per_block; t < (selected[e] + 1) * per_block; ++t) tiles[n++] = t;
    }
    for (int t = a * per_block; t <= qt; ++t) tiles[n++] = t;
    return n;
  }
  for (int t = 0; t <= qt; ++t) {
    // A streaming tile is read when some (query, key) pair in it is a sink or window entry.
    const bool kept =
        kind != kSparseStreaming || t * kTile < sink || t * kTile + kTile - 1 > row0 - window;
    if (kept) tiles[n++] = t;
  }
  return n;
}

template <typename T, int D>
__global__ void __launch_bounds__(kThreads) sparse_kernel(SparseAttentionParams p) {
  extern __shared__ __align__(128) unsigned char smem[];
  constexpr size_t kOperand = operand_tile_bytes<T, D>();
  constexpr int kTileElems = kTile * operand_ld<D>();
  T* q_tile = reinterpret_cast<T*>(smem);
  T* k_tiles = reinterpret_cast<T*>(smem + kOperand);
  T* v_tile = reinterpret_cast<T*>(smem + 3 * kOperand);
  T* p_tile = reinterpret_cast<T*>(smem + 4 * kOperand);
  float* scores = reinterpret_cast<float*>(smem + 4 * kOperand + prob_tile_bytes<T>());
  int* tiles =
      reinterpret_cast<int*>(smem + 4 * kOperand + prob_tile_bytes<T>() + score_tile_bytes());
  __shared__ int n_tiles_listed;

  const int n_query_tiles = (p.seq + kTile - 1) / kTile;
  const int qt = n_query_tiles - 1 - static_cast<int>(blockIdx.x);  // longest rows first
  const int row0 = qt * kTile;
  const int head = blockIdx.y, batch = blockIdx.z;
  const int kv_head = head / (p.heads / p.kv_heads);
  const int32_t* config = p.head_config + head * kSparseFields;
  const int kind = config[kSparseKind], sink = config[kSparseSink];
  const int window = config[kSparseWindow], block = config[kSparseBlock];

  if (threadIdx.x == 0) {
    n_tiles_listed = list_tiles(p, batch, head, qt, kind, sink, window, block, tiles);
  }
  __syncthreads();
  const int n_listed = n_tiles_listed;

  const T* q = static_cast<const T*>(p.q) + batch * p.q_batch_stride + head * p.q_head_stride;
  const T* k = static_cast<const T*>(p.k) + batch * p.k_batch_stride + kv_head * p.k_head_stride;
  const T* v = static_cast<const T*>(p.v) + batch * p.v_batch_stride + kv_head * p.v_head_stride;
  const int warp = threadIdx.x / 32;
  const int local_row = threadIdx.x / 2, half = threadIdx.x % 2;
  // Lane (row r of the warp's 16, half h) reads column (c + rotation) % 32 of its half row at
  // step c: with the 4-mod-32 pitch, bank 4r + r/8 + 2h + c covers all 32 banks once.
  const int rotation = ((local_row % 16) >> 3) + 2 * half;
  const int i = row0 + local_row;
  const float scale2 = p.scale * kLog2e;
  const bool streaming = kind == kSparseStreaming;

  float acc[D / 2];  // output columns c·64 + h·32 + (k + rotation) % 32 at acc[c·32 + k]
#pragma unroll
  for (int c = 0; c < D / 2; ++c) acc[c] = 0.0f;
  float m = -INFINITY, l = 0.0f;

  load_tile_async<T, D>(q_tile, q, p.q_token_stride, row0, p.seq);
  load_tile_async<T, D>(k_tiles, k, p.k_token_stride, tiles[0] * kTile, p.seq);
  for (int idx = 0; idx < n_listed; ++idx) {
    const int buf = idx & 1;
    const int tile = tiles[idx];
    const bool prefetch = idx + 1 < n_listed;
    cp_async_wait<0>();
    // This tile's keys are in; every warp is done with V and the other K buffer.
    __syncthreads();
    load_tile_async<T, D>(v_tile, v, p.v_token_stride, tile * kTile, p.seq);
    if (prefetch) {
      load_tile_async<T, D>(k_tiles + (buf ^ 1) * kTileElems, k, p.k_token_stride,
                            tiles[idx + 1] * kTile, p.seq);
    }
    score_rows<T, D>(q_tile, k_tiles + buf * kTileElems, scores, warp);
    __syncwarp();

    const float* row = scores + local_row * kScoreLd + half * kHalf;
    const int j0 = tile * kTile + half * kHalf;
    // Tiles wholly below the diagonal (so inside the sequence) and, for a streaming head, wholly
    // among the sinks or wholly inside every row's window keep every entry: no per-key tests.
    const int key_last = tile * kTile + kTile - 1;
    const bool interior = key_last < row0 && (!streaming || key_last < sink ||
                                              tile * kTile > row0 + kTile - 1 - window);
    float s[kHalf];
    float tile_max = -INFINITY;
#pragma unroll
    for (int c = 0; c < kHalf; ++c) {
      const int col = (c + rotation) & (kHalf - 1);
      const int j = j0 + col;
      const bool keep =
          interior || (j <= i && j < p.seq && (!streaming || j < sink || j > i - window));
      s[c] = keep ? row[col] * scale2 : -INFINITY;
      tile_max = fmaxf(tile_max, s[c]);
    }
    tile_max = fmaxf(tile_max, __shfl_xor_sync(0xffffffffu, tile_max, 1));
    const float m_new = fmaxf(m, tile_max);
    // A row with nothing kept yet stays at m = -inf with zero sums (no inf - inf).
    const float m_ref = m_new == -INFINITY ? 0.0f : m_new;
    const float alpha = fast_exp2(m - m_ref);
    T* prob_row = p_tile + local_row * kProbLd + half * kHalf;
    float sum = 0.0f;
#pragma unroll
    for (int c = 0; c < kHalf; ++c) {
      const float e = fast_exp2(s[c] - m_ref);
      sum += e;
      prob_row[(c + rotation) & (kHalf - 1)] = from_float(e, static_cast<T*>(nullptr));
    }
    l = l * alpha + sum;
    m = m_new;
#pragma unroll
    for (int c = 0; c < D / 2; ++c) acc[c] *= alpha;

    // V is in (the K prefetch may still be in flight).
    if (prefetch) {
      cp_async_wait<1>();
    } else {
      cp_async_wait<0>();
    }
    __syncthreads();
#pragma unroll
    for (int chunk = 0; chunk < D / kTile; ++chunk) {
      // The warp's score rows are consumed (P holds them), so P·V reuses them.
      value_rows<T, D>(p_tile, v_tile, chunk * kTile, scores, warp);
      __syncwarp();
#pragma unroll
      for (int c = 0; c < kHalf; ++c) acc[chunk * kHalf + c] += row[(c + rotation) & (kHalf - 1)];
      __syncwarp();
    }
  }

  l += __shfl_xor_sync(0xffffffffu, l, 1);
  if (i >= p.seq) return;
  const float inv = 1.0f / l;  // the diagonal is always kept, so l > 0
  T* out = static_cast<T*>(p.out) + batch * p.out_batch_stride + head * p.out_head_stride +
           int64_t{i} * p.out_token_stride;
#pragma unroll
  for (int chunk = 0; chunk < D / kTile; ++chunk) {
#pragma unroll
    for (int c = 0; c < kHalf; ++c) {
      out[chunk * kTile + half * kHalf + ((c + rotation) & (kHalf - 1))] =
          from_float(acc[chunk * kHalf + c] * inv, static_cast<T*>(nullptr));
    }
  }
}

std::string check(cudaError_t status) {
  return status == cudaSuccess ? std::string() : std::string(cudaGetErrorString(status));
}

template <typename T, int D>
std::string launch_typed(const SparseAttentionParams& p, cudaStream_t stream) {
  const size_t smem = kernel_smem<T, D>(p.seq);
  std::string error = check(cudaFuncSetAttribute(
      sparse_kernel<T, D>, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem)));
  if (!error.empty()) return error;
  const int n_tiles = (p.seq + kTile - 1) / kTile;
  sparse_kernel<T, D><<<dim3(n_tiles, p.heads, p.batch), kThreads, smem, stream>>>(p);
  return check(cudaGetLastError());
}

template <typename T>
std::string launch_dim(const SparseAttentionParams& p, cudaStream_t stream) {
  if (p.head_dim == 64) return launch_typed<T, 64>(p, stream);
  if (p.head_dim == 128) return launch_typed<T, 128>(p, stream);
  return "sparse_attention_launch: head_dim must be 64 or 128";
}

}  // namespace

std::string sparse_attention_launch(const SparseAttentionParams& p, void* stream) {
  auto s = static_cast<cudaStream_t>(stream);
  return p.bf16 ? launch_dim<__nv_bfloat16>(p, s) : launch_dim<__half>(p, s);
}

}  // namespace headscope::cuda
