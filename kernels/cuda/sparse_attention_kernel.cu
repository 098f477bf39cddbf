// Per-head sparse attention forward on the GPU (kernels/sparse_attention.h defines the masks),
// on the register-resident tile engine of mma_tile.cuh.
//
// One CTA of 4 warps per (64-query tile, head, batch); each warp owns 16 query rows end to end.
// The CTA first lists the 64-key tiles its queries read: every causal tile for a full head, the
// sink and window tiles for a streaming head, the selected earlier blocks plus the own block for
// a block-sparse head (block sizes are multiples of 64, so a tile is wholly kept or wholly
// dropped). Only listed tiles are loaded and computed, so the work follows the kept fraction.
// Per tile: S = Q·Kᵀ from the tensor cores into registers, exact per-entry masks (causal,
// sink/window) only on tiles that need them, an online softmax in base 2 (scale·log2 e folded
// in, one ex2 per entry), P rounded to the input type in registers as the A operand of P·V, and
// a rescaled fp32 accumulator. K of the next tile loads (cp.async) while this one computes, V of
// this tile while its scores are computed.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include "kernels/cuda/dtype_dim_switch.cuh"
#include "kernels/cuda/mma_tile.cuh"
#include "kernels/cuda/sparse_attention_params.h"
#include "kernels/cuda/wgmma_tile.cuh"

namespace headscope::cuda {
namespace {

using mma::Frag;
using mma::kKeyFrags;
using mma::kKeyTile;

constexpr int kWarps = 4;
constexpr int kThreads = kWarps * 32;
constexpr int kRows = kWarps * mma::kRowsPerWarp;  // query rows per CTA
static_assert(kRows == kSparseTile && kKeyTile == kSparseTile, "one tile size for both");

// Q, two K buffers and one V buffer of [64, D], then the tile list (one int per causal key
// tile): 64 KB for D = 128, so three CTAs share a Hopper SM (two an A100 one).
template <typename T, int D>
size_t kernel_smem(int seq) {
  return 4 * size_t{kKeyTile} * D * sizeof(T) +
         size_t((seq + kKeyTile - 1) / kKeyTile) * sizeof(int) + mma::kSmemAlignSlack;
}

__device__ __forceinline__ int ceil_div(int a, int b) {
  return a <= 0 ? 0 : (a + b - 1) / b;
}

// Fills tiles[] with the key tiles query tile qt reads, ascending, every thread of the CTA
// helping; returns how many (never 0: the diagonal tile qt is always listed).
__device__ int list_tiles(const SparseAttentionParams& p, int batch, int head, int qt, int kind,
                          int sink, int window, int block, int* tiles) {
  __shared__ int n_selected;
  const int row0 = qt * kRows;
  if (kind == kSparseBlockSparse) {
    const int per_block = block / kKeyTile, own = row0 / block;
    const int32_t* selected =
        p.selected +
        ((int64_t{batch} * p.heads + head) * p.max_query_blocks + own) * int64_t{p.max_selected};
    if (threadIdx.x == 0) n_selected = 0;
    __syncthreads();
    int count = 0;  // the list is ascending with -1 after the last entry
    for (int e = threadIdx.x; e < p.max_selected; e += kThreads) count += selected[e] >= 0;
    if (count > 0) atomicAdd(&n_selected, count);
    __syncthreads();
    const int selected_tiles = n_selected * per_block;
    const int n = selected_tiles + qt - own * per_block + 1;
    for (int idx = threadIdx.x; idx < n; idx += kThreads) {
      tiles[idx] = idx < selected_tiles ? selected[idx / per_block] * per_block + idx % per_block
                                        : own * per_block + idx - selected_tiles;
    }
    __syncthreads();
    return n;
  }
  // Full: tiles 0..qt. Streaming: tiles holding a sink key, then those from the first one
  // holding a window key of the tile's first row (t·64 + 63 > row0 - window).
  const int window_first =
      kind == kSparseStreaming ? min(qt, ceil_div(row0 - window - kKeyTile + 2, kKeyTile)) : 0;
  const int sink_tiles = min(ceil_div(sink, kKeyTile), window_first);
  const int n = sink_tiles + qt - window_first + 1;
  for (int idx = threadIdx.x; idx < n; idx += kThreads) {
    tiles[idx] = idx < sink_tiles ? idx : window_first + idx - sink_tiles;
  }
  __syncthreads();
  return n;
}

// Three CTAs per SM (64 KB of shared memory each) need at most 168 registers per thread (one
// word spills).
template <typename T, int D>
__global__ void __launch_bounds__(kThreads, 3) sparse_kernel(SparseAttentionParams p) {
  extern __shared__ __align__(128) unsigned char smem_raw[];
  constexpr int kTileElems = kKeyTile * D;
  T* q_tile = reinterpret_cast<T*>(mma::align_smem(smem_raw));
  T* k_tiles = q_tile + kTileElems;
  T* v_tile = k_tiles + 2 * kTileElems;
  int* tiles = reinterpret_cast<int*>(v_tile + kTileElems);

  const int n_query_tiles = (p.seq + kRows - 1) / kRows;
  const int qt = n_query_tiles - 1 - static_cast<int>(blockIdx.x);  // longest rows first
  const int row0 = qt * kRows;
  const int head = blockIdx.y, batch = blockIdx.z;
  const int kv_head = head / (p.heads / p.kv_heads);
  const int32_t* config = p.head_config + head * kSparseFields;
  const int kind = config[kSparseKind], sink = config[kSparseSink];
  const int window = config[kSparseWindow], block = config[kSparseBlock];
  const bool streaming = kind == kSparseStreaming;
  const int n_listed = list_tiles(p, batch, head, qt, kind, sink, window, block, tiles);

  const T* q = static_cast<const T*>(p.q) + batch * p.q_batch_stride + head * p.q_head_stride;
  const T* k = static_cast<const T*>(p.k) + batch * p.k_batch_stride + kv_head * p.k_head_stride;
  const T* v = static_cast<const T*>(p.v) + batch * p.v_batch_stride + kv_head * p.v_head_stride;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  int row[2];
  row[0] = row0 + warp * mma::kRowsPerWarp + lane / 4;
  row[1] = row[0] + 8;
  const int col = 2 * (lane % 4);
  const float scale2 = p.scale * mma::kLog2e;

  Frag o[D / 8];
#pragma unroll
  for (int c = 0; c < D / 8; ++c) o[c][0] = o[c][1] = o[c][2] = o[c][3] = 0.0f;
  float m[2] = {-INFINITY, -INFINITY}, l[2] = {0.0f, 0.0f};  // l: this lane's columns only

  mma::load_rows_async<T, D, kRows, kThreads>(q_tile, q, p.q_token_stride, row0, p.seq);
  mma::load_key_tile_async<T, D, kThreads>(k_tiles, 0, k, p.k_token_stride, tiles[0], p.seq);
  for (int idx = 0; idx < n_listed; ++idx) {
    const int buf = idx & 1;
    const int tile = tiles[idx];
    mma::cp_async_wait<0>();
    // This tile's K is in; every warp is done with the other K buffer and with V.
    __syncthreads();
    // V of this tile loads while its scores are computed; K of the next one a tile ahead.
    mma::load_key_tile_async<T, D, kThreads>(v_tile, 0, v, p.v_token_stride, tile, p.seq);
    if (idx + 1 < n_listed) {
      mma::load_key_tile_async<T, D, kThreads>(k_tiles, buf ^ 1, k, p.k_token_stride,
                                               tiles[idx + 1], p.seq);
    }
    Frag s[kKeyFrags];
    mma::score_tile_q_smem<T, D, kRows>(s, q_tile, k_tiles + buf * kTileElems);

    // Tiles wholly below the diagonal (so inside the sequence) and, for a streaming head,
    // wholly among the sinks or wholly inside every row's window keep every entry.
    const int key0 = tile * kKeyTile, key_last = key0 + kKeyTile - 1;
    const bool interior =
        key_last < row0 && (!streaming || key_last < sink || key0 > row0 + kRows - 1 - window);
    if (!interior) {
#pragma unroll
      for (int n = 0; n < kKeyFrags; ++n) {
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          const int i = row[e / 2], j = key0 + col + 8 * n + (e & 1);
          const bool keep = j <= i && j < p.seq && (!streaming || j < sink || j > i - window);
          if (!keep) s[n][e] = -INFINITY;
        }
      }
    }
    float alpha[2];
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      float tile_max = -INFINITY;
#pragma unroll
      for (int n = 0; n < kKeyFrags; ++n) {
        tile_max = fmaxf(tile_max, fmaxf(s[n][2 * h], s[n][2 * h + 1]));
      }
      const float m_new = fmaxf(m[h], mma::quad_max(tile_max) * scale2);
      // A row with nothing kept yet stays at m = -inf with zero sums (no inf - inf).
      const float m_ref = m_new == -INFINITY ? 0.0f : m_new;
      alpha[h] = mma::fast_exp2(m[h] - m_ref);
      float sum = 0.0f;
#pragma unroll
      for (int n = 0; n < kKeyFrags; ++n) {
#pragma unroll
        for (int e = 0; e < 2; ++e) {
          s[n][2 * h + e] = mma::fast_exp2(fmaf(s[n][2 * h + e], scale2, -m_ref));
          sum += s[n][2 * h + e];
        }
      }
      l[h] = l[h] * alpha[h] + sum;
      m[h] = m_new;
    }
#pragma unroll
    for (int c = 0; c < D / 8; ++c) {
      o[c][0] *= alpha[0], o[c][1] *= alpha[0];
      o[c][2] *= alpha[1], o[c][3] *= alpha[1];
    }
    // V is in (the next K may still be in flight) for every thread.
    if (idx + 1 < n_listed) {
      mma::cp_async_wait<1>();
    } else {
      mma::cp_async_wait<0>();
    }
    __syncthreads();
    mma::accumulate_pv_warpgroup<T, D>(o, s, v_tile);
  }

#pragma unroll
  for (int h = 0; h < 2; ++h) {
    const int i = row[h];
    const float inv = 1.0f / mma::quad_sum(l[h]);  // the diagonal is always kept, so l > 0
    if (i >= p.seq) continue;
    T* out = static_cast<T*>(p.out) + batch * p.out_batch_stride + head * p.out_head_stride +
             int64_t{i} * p.out_token_stride + col;
#pragma unroll
    for (int c = 0; c < D / 8; ++c) {
      *reinterpret_cast<uint32_t*>(out + 8 * c) =
          mma::pack(o[c][2 * h] * inv, o[c][2 * h + 1] * inv, static_cast<T*>(nullptr));
    }
  }
}

template <typename T, int D>
std::string launch_typed(const SparseAttentionParams& p, cudaStream_t stream) {
  const int n_tiles = (p.seq + kRows - 1) / kRows;
  return mma::launch(sparse_kernel<T, D>, dim3(n_tiles, p.heads, p.batch), kThreads,
                     kernel_smem<T, D>(p.seq), stream, p);
}

}  // namespace

std::string sparse_attention_launch(const SparseAttentionParams& p, void* stream) {
  auto s = static_cast<cudaStream_t>(stream);
  return switch_dtype_dim(p.bf16, p.head_dim, "sparse_attention_launch", [&](auto type, auto dim) {
    return launch_typed<typename decltype(type)::type, decltype(dim)::value>(p, s);
  });
}

}  // namespace headscope::cuda
