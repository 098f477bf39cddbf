// Attention statistics on the GPU without a T x T map (kernels/attention_stats.h defines them).
//
// Pass 1 (stats_kernel): one CTA per (64-query tile, head). Score tiles Q·Kᵀ come from the
// tensor cores (WMMA, bf16/fp16 in, fp32 out) into shared memory; two threads per query row
// then fold each 32-key half into an online state: running max m, l = Σ 2^(s-m),
// t = Σ 2^(s-m)·(s-m), sink and local sums, and a sorted top-16 of the raw scores. Scores are
// kept in base 2 (s = scale·log2(e)·q·k) so every exponential is one exp2. The two halves merge
// at the end; the row's log2-normaliser goes to a workspace for pass 2.
// Pass 2 (block_kernel): one CTA per (query block, head) recomputes the score tiles of every
// key block it can see and sums 2^(s - lse) into block_mass; every entry is written once, zeros
// included, so the output needs no clearing.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <mma.h>

#include "kernels/cuda/attention_stats_params.h"

namespace headscope::cuda {
namespace {

using namespace nvcuda;

constexpr int kWarps = 4;
constexpr int kThreads = kWarps * 32;
constexpr int kTile = kStatsTile;
constexpr int kHalf = kTile / 2;     // keys per thread per tile
constexpr int kScoreLd = kTile + 4;  // float pitch of the score tile
constexpr int kTopk = kStatsMaxTopk;
constexpr float kLog2e = 1.4426950408889634f;
constexpr float kLn2 = 0.6931471805599453f;

// Row pitch of a [64, D] operand tile: 16 bytes of padding keep WMMA loads off one bank.
template <int D>
__host__ __device__ constexpr int operand_ld() {
  return D + 8;
}

template <typename T, int D>
__host__ __device__ constexpr size_t operand_tile_bytes() {
  return size_t{kTile} * operand_ld<D>() * sizeof(T);
}

constexpr size_t score_tile_bytes() {
  return size_t{kTile} * kScoreLd * sizeof(float);
}

// Rows [row0, row0 + 64) of a [T, D] matrix into shared memory; rows at or past `seq` are zero.
template <typename T, int D>
__device__ void load_tile(T* dst, const T* src, int64_t token_stride, int row0, int seq) {
  constexpr int kVectors = D / 8;  // 16-byte vectors per row
  for (int v = threadIdx.x; v < kTile * kVectors; v += kThreads) {
    const int r = v / kVectors, c = (v % kVectors) * 8;
    uint4 value = make_uint4(0, 0, 0, 0);
    if (row0 + r < seq) {
      value = *reinterpret_cast<const uint4*>(src + int64_t{row0 + r} * token_stride + c);
    }
    *reinterpret_cast<uint4*>(dst + r * operand_ld<D>() + c) = value;
  }
}

// load_tile through cp.async: the copy runs while the CTA computes; cp_async_wait() completes
// it. Rows at or past `seq` are zero-filled (a source size of 0).
template <typename T, int D>
__device__ void load_tile_async(T* dst, const T* src, int64_t token_stride, int row0, int seq) {
  constexpr int kVectors = D / 8;
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

__device__ __forceinline__ void cp_async_wait() {
  asm volatile("cp.async.wait_group 0;\n" ::: "memory");
}

// scores[64, 64] = q_tile · k_tileᵀ; warp w computes rows [16w, 16w + 16).
template <typename T, int D>
__device__ void score_tile(const T* q_tile, const T* k_tile, float* scores) {
  constexpr int ld = operand_ld<D>();
  const int warp = threadIdx.x / 32;
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

// First column a thread reads of its 32-score half row. With the row pitch of 68 floats, lane
// (row x, half h) then reads bank 5x + 16h + c (mod 32) at step c: a warp's 16 rows x 2 halves
// cover all 32 banks, where reading in order would pile 4 lanes onto each bank.
__device__ __forceinline__ int scan_rotation(int local_row, int half) {
  return ((local_row % 16) + 16 * half) % kHalf;
}

// 2^x on the special-function unit without exp2f's denormal handling (results under 2^-126
// flush to 0, far below anything the statistics can show).
__device__ __forceinline__ float fast_exp2(float x) {
  float y;
  asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
  return y;
}

// Higher score first; the lower key wins a tie.
__device__ __forceinline__ bool ranks_before(float s, int j, float s_other, int j_other) {
  return s > s_other || (s == s_other && j < j_other);
}

// Inserts (s, j) into the descending list; unrolled so the list stays in registers.
__device__ __forceinline__ void topk_insert(float (&score)[kTopk], int (&key)[kTopk], float s,
                                            int j) {
#pragma unroll
  for (int r = kTopk - 1; r > 0; --r) {
    if (ranks_before(s, j, score[r - 1], key[r - 1])) {
      score[r] = score[r - 1];
      key[r] = key[r - 1];
    } else if (ranks_before(s, j, score[r], key[r])) {
      score[r] = s;
      key[r] = j;
    }
  }
  if (ranks_before(s, j, score[0], key[0])) {
    score[0] = s;
    key[0] = j;
  }
}

template <typename T, int D>
__global__ void __launch_bounds__(kThreads) stats_kernel(AttentionStatsParams p) {
  extern __shared__ __align__(128) unsigned char smem[];
  T* q_tile = reinterpret_cast<T*>(smem);
  // Two key tiles: the next one loads while this one is scored.
  T* k_tiles = reinterpret_cast<T*>(smem + operand_tile_bytes<T, D>());
  constexpr int kTileElems = kTile * operand_ld<D>();
  float* scores = reinterpret_cast<float*>(smem + 3 * operand_tile_bytes<T, D>());

  const int n_tiles = (p.seq + kTile - 1) / kTile;
  const int row0 = (n_tiles - 1 - static_cast<int>(blockIdx.x)) * kTile;  // longest rows first
  const int head = blockIdx.y;
  const int kv_head = head / (p.heads / p.kv_heads);
  const T* q = static_cast<const T*>(p.q) + head * p.q_head_stride;
  const T* k = static_cast<const T*>(p.k) + kv_head * p.k_head_stride;
  const int local_row = threadIdx.x / 2;
  const int half = threadIdx.x % 2;
  const int rotation = scan_rotation(local_row, half);
  const int i = row0 + local_row;
  const float scale2 = p.scale * kLog2e;
  const int key_lo = p.sliding_window > 0 ? max(0, i - p.sliding_window + 1) : 0;
  const int local_lo = i - p.window + 1;

  float m = -INFINITY, l = 0.0f, t = 0.0f, sink = 0.0f, local = 0.0f;
  float top_score[kTopk];
  int top_key[kTopk];
#pragma unroll
  for (int r = 0; r < kTopk; ++r) top_score[r] = -INFINITY, top_key[r] = -1;
  // The 16th best so far, whatever k is: a constant index keeps the list in registers (a
  // run-time one would move it to local memory), and insertions are rare either way. Keys
  // arrive out of order (see scan_rotation), so equal scores go through topk_insert's tie rule.
  float threshold = -INFINITY;

  const int last_key = min(row0 + kTile, p.seq) - 1;
  const int first_tile = p.sliding_window > 0 ? max(0, row0 - p.sliding_window + 1) / kTile : 0;
  load_tile_async<T, D>(q_tile, q, p.q_token_stride, row0, p.seq);
  load_tile_async<T, D>(k_tiles, k, p.k_token_stride, first_tile * kTile, p.seq);
  for (int tile = first_tile, buf = 0; tile * kTile <= last_key; ++tile, buf ^= 1) {
    cp_async_wait();
    // This tile's keys are in; every thread is done with the other buffer and the scores.
    __syncthreads();
    if ((tile + 1) * kTile <= last_key) {
      load_tile_async<T, D>(k_tiles + (buf ^ 1) * kTileElems, k, p.k_token_stride,
                            (tile + 1) * kTile, p.seq);
    }
    score_tile<T, D>(q_tile, k_tiles + buf * kTileElems, scores);
    __syncthreads();
    const float* row = scores + local_row * kScoreLd + half * kHalf;
    const int j0 = tile * kTile + half * kHalf;
    const int c_lo = max(0, key_lo - j0), c_hi = min(kHalf, i - j0 + 1);
    if (i >= p.seq || c_lo >= c_hi) continue;
    // Most tiles lie wholly inside the causal window, past the sink and before the local
    // window: no per-key tests there, the row's 32 scores in registers, and each lane starting
    // at its own column so that a warp's reads hit 32 different banks.
    const bool interior = c_lo == 0 && c_hi == kHalf && j0 >= p.sink && j0 + kHalf <= local_lo;
    float v[kHalf];
    float tile_max = -INFINITY;
    if (interior) {
#pragma unroll
      for (int c = 0; c < kHalf; ++c) {
        v[c] = row[(c + rotation) & (kHalf - 1)] * scale2;
        tile_max = fmaxf(tile_max, v[c]);
      }
    } else {
      for (int c = c_lo; c < c_hi; ++c) tile_max = fmaxf(tile_max, row[c] * scale2);
    }
    if (tile_max > m) {
      const float f = exp2f(m - tile_max);
      t = l > 0.0f ? f * (t + l * (m - tile_max)) : 0.0f;
      l *= f, sink *= f, local *= f;
      m = tile_max;
    }
    if (interior) {
      uint32_t candidates = 0;  // scores that may enter the top-k, inserted below (rare)
#pragma unroll
      for (int c = 0; c < kHalf; ++c) {
        const float e = fast_exp2(v[c] - m);
        l += e;
        t += e * (v[c] - m);
        candidates |= (v[c] >= threshold ? 1u : 0u) << c;
      }
      while (candidates != 0) {
        const int col = (__ffs(candidates) - 1 + rotation) & (kHalf - 1);
        candidates &= candidates - 1;
        const float s = row[col] * scale2;
        if (s >= threshold) {
          topk_insert(top_score, top_key, s, j0 + col);
          threshold = top_score[kTopk - 1];
        }
      }
      continue;
    }
    for (int c = c_lo; c < c_hi; ++c) {
      const float s = row[c] * scale2;
      const int j = j0 + c;
      const float e = fast_exp2(s - m);
      l += e;
      t += e * (s - m);
      if (j < p.sink) sink += e;
      if (j >= local_lo) local += e;
      if (s >= threshold) {
        topk_insert(top_score, top_key, s, j);
        threshold = top_score[kTopk - 1];
      }
    }
  }

  // Merge the two halves of each row (neighbouring lanes).
  const float m_other = __shfl_xor_sync(0xffffffffu, m, 1);
  const float l_other = __shfl_xor_sync(0xffffffffu, l, 1);
  const float t_other = __shfl_xor_sync(0xffffffffu, t, 1);
  const float sink_other = __shfl_xor_sync(0xffffffffu, sink, 1);
  const float local_other = __shfl_xor_sync(0xffffffffu, local, 1);
  const float m_row = fmaxf(m, m_other);
  const float f_self = l > 0.0f ? exp2f(m - m_row) : 0.0f;
  const float f_other = l_other > 0.0f ? exp2f(m_other - m_row) : 0.0f;
  const float l_row = l * f_self + l_other * f_other;
  const float t_row = (l > 0.0f ? f_self * (t + l * (m - m_row)) : 0.0f) +
                      (l_other > 0.0f ? f_other * (t_other + l_other * (m_other - m_row)) : 0.0f);
  const float sink_row = sink * f_self + sink_other * f_other;
  const float local_row_mass = local * f_self + local_other * f_other;
  // Only the even lane merges, so the odd lane's list stays as it was while it is read.
#pragma unroll
  for (int r = 0; r < kTopk; ++r) {
    const float s = __shfl_xor_sync(0xffffffffu, top_score[r], 1);
    const int j = __shfl_xor_sync(0xffffffffu, top_key[r], 1);
    if (half == 0 && r < p.topk && j >= 0) topk_insert(top_score, top_key, s, j);
  }
  if (half != 0 || i >= p.seq) return;

  const float log2_l = log2f(l_row);
  const float lse2 = m_row + log2_l;
  const int64_t o = int64_t{head} * p.seq + i;
  p.entropy[o] = kLn2 * (log2_l - t_row / l_row);  // lse - Σ p·s, without cancellation
  p.sink_mass[o] = sink_row / l_row;
  p.local_mass[o] = local_row_mass / l_row;
  p.max_prob[o] = exp2f(top_score[0] - lse2);
  p.argmax[o] = top_key[0];
  p.lse2[o] = lse2;
#pragma unroll
  for (int r = 0; r < kTopk; ++r) {
    if (r < p.topk) {
      p.topk_index[o * p.topk + r] = top_key[r];
      p.topk_prob[o * p.topk + r] = top_key[r] >= 0 ? exp2f(top_score[r] - lse2) : 0.0f;
    }
  }
}

template <typename T, int D>
size_t block_kernel_smem(int block_size) {
  return size_t(block_size / kTile + 2) * operand_tile_bytes<T, D>() + score_tile_bytes() +
         sizeof(float) * (block_size + kWarps);
}

template <typename T, int D>
__global__ void __launch_bounds__(kThreads) block_kernel(AttentionStatsParams p) {
  extern __shared__ __align__(128) unsigned char smem[];
  const int bsize = p.block_size, n_sub = bsize / kTile;
  constexpr int kTileElems = kTile * operand_ld<D>();
  T* q_block = reinterpret_cast<T*>(smem);
  T* k_tiles = q_block + n_sub * kTileElems;  // two buffers: the next tile loads meanwhile
  float* scores = reinterpret_cast<float*>(k_tiles + 2 * kTileElems);
  float* lse_rows = scores + kTile * kScoreLd;
  float* partial = lse_rows + bsize;

  const int n_blocks = (p.seq + bsize - 1) / bsize;
  const int qb = n_blocks - 1 - static_cast<int>(blockIdx.x), head = blockIdx.y;  // longest first
  const int kv_head = head / (p.heads / p.kv_heads);
  const T* q = static_cast<const T*>(p.q) + head * p.q_head_stride;
  const T* k = static_cast<const T*>(p.k) + kv_head * p.k_head_stride;
  const int first_row = qb * bsize, last_row = min(p.seq, first_row + bsize) - 1;
  const int key_lo = p.sliding_window > 0 ? max(0, first_row - p.sliding_window + 1) : 0;
  const int kb_lo = key_lo / bsize, kb_hi = last_row / bsize;
  float* out = p.block_mass + (int64_t{head} * n_blocks + qb) * n_blocks;

  for (int kb = threadIdx.x; kb < n_blocks; kb += kThreads) {
    if (kb < kb_lo || kb > kb_hi) out[kb] = 0.0f;  // keys this block never sees
  }
  for (int sub = 0; sub < n_sub; ++sub) {
    load_tile_async<T, D>(q_block + sub * kTileElems, q, p.q_token_stride, first_row + sub * kTile,
                          p.seq);
  }
  for (int r = threadIdx.x; r < bsize; r += kThreads) {
    lse_rows[r] = first_row + r < p.seq ? p.lse2[int64_t{head} * p.seq + first_row + r] : 0.0f;
  }

  const int local_row = threadIdx.x / 2, half = threadIdx.x % 2;
  const int rotation = scan_rotation(local_row, half);
  const float scale2 = p.scale * kLog2e;
  const float inv_rows = 1.0f / static_cast<float>(last_row - first_row + 1);
  // Key tiles of 64 from the first visible key block to the diagonal; a key block's sum is
  // reduced and written after its last tile.
  const int kt_first = kb_lo * n_sub, kt_last = last_row / kTile;
  load_tile_async<T, D>(k_tiles, k, p.k_token_stride, kt_first * kTile, p.seq);
  float sum = 0.0f;
  for (int kt = kt_first, buf = 0; kt <= kt_last; ++kt, buf ^= 1) {
    cp_async_wait();
    __syncthreads();  // tile kt is in; the other buffer and the scores are free
    if (kt < kt_last) {
      load_tile_async<T, D>(k_tiles + (buf ^ 1) * kTileElems, k, p.k_token_stride, (kt + 1) * kTile,
                            p.seq);
    }
    const int k0 = kt * kTile;
    for (int qsub = 0; qsub < n_sub; ++qsub) {
      const int q0 = first_row + qsub * kTile;
      const int q_key_lo = p.sliding_window > 0 ? q0 - p.sliding_window + 1 : 0;
      if (q0 >= p.seq || k0 > q0 + kTile - 1 || k0 + kTile - 1 < q_key_lo) continue;
      __syncthreads();  // the previous query tile's scores are consumed
      score_tile<T, D>(q_block + qsub * kTileElems, k_tiles + buf * kTileElems, scores);
      __syncthreads();
      const int i = q0 + local_row;
      if (i < p.seq) {
        const float lse2 = lse_rows[qsub * kTile + local_row];
        const int lo = p.sliding_window > 0 ? i - p.sliding_window + 1 : 0;
        const float* row = scores + local_row * kScoreLd + half * kHalf;
        const int j0 = k0 + half * kHalf;
#pragma unroll 8
        for (int c = 0; c < kHalf; ++c) {
          const int col = (c + rotation) & (kHalf - 1);
          const int j = j0 + col;
          if (j <= i && j >= lo) sum += fast_exp2(row[col] * scale2 - lse2);
        }
      }
    }
    if ((kt + 1) % n_sub != 0 && kt != kt_last) continue;
#pragma unroll
    for (int offset = 16; offset > 0; offset /= 2) sum += __shfl_xor_sync(0xffffffffu, sum, offset);
    __syncthreads();  // the previous key block's partials are read
    if (threadIdx.x % 32 == 0) partial[threadIdx.x / 32] = sum;
    __syncthreads();
    if (threadIdx.x == 0) {
      float total = 0.0f;
      for (int w = 0; w < kWarps; ++w) total += partial[w];
      out[kt / n_sub] = total * inv_rows;
    }
    sum = 0.0f;
  }
}

std::string check(cudaError_t status) {
  return status == cudaSuccess ? std::string() : std::string(cudaGetErrorString(status));
}

template <typename T, int D>
std::string launch_typed(const AttentionStatsParams& p, cudaStream_t stream) {
  const size_t stats_smem = 3 * operand_tile_bytes<T, D>() + score_tile_bytes();
  std::string error = check(cudaFuncSetAttribute(
      stats_kernel<T, D>, cudaFuncAttributeMaxDynamicSharedMemorySize, int(stats_smem)));
  if (!error.empty()) return error;
  const int n_tiles = (p.seq + kTile - 1) / kTile;
  stats_kernel<T, D><<<dim3(n_tiles, p.heads), kThreads, stats_smem, stream>>>(p);
  error = check(cudaGetLastError());
  if (!error.empty() || p.block_mass == nullptr) return error;

  const size_t block_smem = block_kernel_smem<T, D>(p.block_size);
  error = check(cudaFuncSetAttribute(block_kernel<T, D>,
                                     cudaFuncAttributeMaxDynamicSharedMemorySize, int(block_smem)));
  if (!error.empty()) return error;
  const int n_blocks = (p.seq + p.block_size - 1) / p.block_size;
  block_kernel<T, D><<<dim3(n_blocks, p.heads), kThreads, block_smem, stream>>>(p);
  return check(cudaGetLastError());
}

template <typename T>
std::string launch_dim(const AttentionStatsParams& p, cudaStream_t stream) {
  if (p.head_dim == 64) return launch_typed<T, 64>(p, stream);
  if (p.head_dim == 128) return launch_typed<T, 128>(p, stream);
  return "attention_stats_launch: head_dim must be 64 or 128";
}

}  // namespace

std::string attention_stats_launch(const AttentionStatsParams& p, void* stream) {
  auto s = static_cast<cudaStream_t>(stream);
  return p.bf16 ? launch_dim<__nv_bfloat16>(p, s) : launch_dim<__half>(p, s);
}

}  // namespace headscope::cuda
