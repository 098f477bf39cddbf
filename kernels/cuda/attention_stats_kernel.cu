// Attention statistics on the GPU without a T x T map (kernels/attention_stats.h defines them),
// on the register-resident tile engine of mma_tile.cuh.
//
// Statistics pass (stats_kernel): one CTA per (query tile, head); each warp owns 16 rows. Per
// 64-key tile the warp's scores come out of the tensor cores into registers, and each lane
// folds its 16 columns of its 2 rows into a state of its own: l = Σ 2^(s-m),
// t = Σ 2^(s-m)·(s-m), sink and local sums and a sorted top-k list of the raw scores. Scores
// are in base 2 (s = scale·log2(e)·q·k), so each exponential is one ex2. The 4 lanes of a row
// merge their states once, at the end.
// Two ways to get m:
//  - given the rows' log2-normalisers (the forward pass's log-sum-exp, from flash attention),
//    m is that normaliser: no online rescaling, every 2^(s-m) is already the probability, and
//    the same pass sums them per key block (one CTA is one query block: 64 or 128 rows), so
//    one Q·Kᵀ pass makes every statistic;
//  - otherwise m is each lane's running max (online softmax); the row's normaliser goes to a
//    workspace, and a second pass (block_kernel) recomputes the score tiles to sum
//    2^(s - lse) per key block.
// Most key tiles lie wholly below the diagonal, past the sink and before the local window
// (the same for the whole CTA): those take a path without per-key tests, and look at their top-k
// lists only when the lane's largest score in the tile can enter (rare after the first tiles:
// the 4 lanes of a row share the highest of their k-th best scores as the bar).
// Block mass: each entry is written once, zeros included; the warps' partial sums are added in
// a fixed order (deterministic).
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include "kernels/cuda/attention_stats_params.h"
#include "kernels/cuda/dtype_dim_switch.cuh"
#include "kernels/cuda/mma_tile.cuh"
#include "kernels/cuda/wgmma_tile.cuh"

namespace headscope::cuda {
namespace {

using mma::Frag;
using mma::kKeyFrags;
using mma::kKeyTile;

static_assert(kKeyTile == kStatsTile, "block sizes are multiples of 64");

// Shared memory for tiles of `rows` rows in all, aligned as wgmma needs.
template <typename T, int D>
constexpr size_t tile_bytes(int rows) {
  return size_t(rows) * D * sizeof(T) + mma::kSmemAlignSlack;
}

// Higher score first; the lower key wins a tie.
__device__ __forceinline__ bool ranks_before(float s, int j, float s_other, int j_other) {
  return s > s_other || (s == s_other && j < j_other);
}

// A descending list of the K best (score, key) pairs; unrolled so it stays in registers.
template <int K>
struct TopList {
  float score[K];
  int key[K];

  __device__ __forceinline__ void clear() {
#pragma unroll
    for (int r = 0; r < K; ++r) score[r] = -INFINITY, key[r] = -1;
  }
  __device__ __forceinline__ void insert(float s, int j) {
#pragma unroll
    for (int r = K - 1; r > 0; --r) {
      if (ranks_before(s, j, score[r - 1], key[r - 1])) {
        score[r] = score[r - 1];
        key[r] = key[r - 1];
      } else if (ranks_before(s, j, score[r], key[r])) {
        score[r] = s;
        key[r] = j;
      }
    }
    if (ranks_before(s, j, score[0], key[0])) score[0] = s, key[0] = j;
  }
  // Inserts a key later than every key in the list, so a tie ranks it last: one comparison a
  // slot instead of ranks_before's two (a lane meets its keys in increasing order).
  __device__ __forceinline__ void insert_later(float s, int j) {
#pragma unroll
    for (int r = K - 1; r > 0; --r) {
      if (s > score[r - 1]) {
        score[r] = score[r - 1];
        key[r] = key[r - 1];
      } else if (s > score[r]) {
        score[r] = s;
        key[r] = j;
      }
    }
    if (s > score[0]) score[0] = s, key[0] = j;
  }
  // Merges the list of the lane `mask` away (the lanes hold disjoint keys).
  __device__ __forceinline__ void merge_lane(int mask) {
    TopList sent = *this;  // this list changes while the other lane still reads it
#pragma unroll
    for (int r = 0; r < K; ++r) {
      const float s = __shfl_xor_sync(0xffffffffu, sent.score[r], mask);
      const int j = __shfl_xor_sync(0xffffffffu, sent.key[r], mask);
      if (j >= 0) insert(s, j);
    }
  }
};

// One lane's share of a row: online sums relative to its own running max.
struct RowState {
  float m = -INFINITY, l = 0.0f, t = 0.0f, sink = 0.0f, local = 0.0f;

  __device__ __forceinline__ void raise_max(float m_new) {
    if (m_new <= m) return;
    const float f = mma::fast_exp2(m - m_new);
    t = l > 0.0f ? f * (t + l * (m - m_new)) : 0.0f;
    l *= f, sink *= f, local *= f;
    m = m_new;
  }
  // Merges the state of the lane `mask` away.
  __device__ __forceinline__ void merge_lane(int mask) {
    const float m2 = __shfl_xor_sync(0xffffffffu, m, mask);
    const float l2 = __shfl_xor_sync(0xffffffffu, l, mask);
    const float t2 = __shfl_xor_sync(0xffffffffu, t, mask);
    const float sink2 = __shfl_xor_sync(0xffffffffu, sink, mask);
    const float local2 = __shfl_xor_sync(0xffffffffu, local, mask);
    const float mm = fmaxf(m, m2);
    const float f1 = l > 0.0f ? exp2f(m - mm) : 0.0f;
    const float f2 = l2 > 0.0f ? exp2f(m2 - mm) : 0.0f;
    t = (l > 0.0f ? f1 * (t + l * (m - mm)) : 0.0f) +
        (l2 > 0.0f ? f2 * (t2 + l2 * (m2 - mm)) : 0.0f);
    l = l * f1 + l2 * f2;
    sink = sink * f1 + sink2 * f2;
    local = local * f1 + local2 * f2;
    m = mm;
  }
};

// s[c / 2][2h + c % 2] for a run-time c in [0, 16), by a tree of selects on c's bits (an
// indexed register array would move to local memory).
__device__ __forceinline__ float select_score(const Frag (&s)[kKeyFrags], int h, int c) {
  float t8[8], t4[4];
#pragma unroll
  for (int i = 0; i < 8; ++i) t8[i] = (c & 1) ? s[i][2 * h + 1] : s[i][2 * h];
#pragma unroll
  for (int i = 0; i < 4; ++i) t4[i] = (c & 2) ? t8[2 * i + 1] : t8[2 * i];
  const float lo = (c & 4) ? t4[1] : t4[0], hi = (c & 4) ? t4[3] : t4[2];
  return (c & 8) ? hi : lo;
}

// A lower bound of the row's k-th best score from the lists of its 4 lanes (disjoint keys):
// the highest of their k-th best, or the lowest of their ceil(k/4)-th best (the 4 lanes' top
// ceil(k/4) are at least k keys, all scoring that much), whichever is higher. Candidates below
// it cannot enter the row's list.
template <int K>
__device__ __forceinline__ float top_bar(const TopList<K>& list) {
  const float a = mma::quad_max(list.score[K - 1]);
  float b = list.score[(K + 3) / 4 - 1];
  b = fminf(b, __shfl_xor_sync(0xffffffffu, b, 1));
  b = fminf(b, __shfl_xor_sync(0xffffffffu, b, 2));
  return fmaxf(a, b);
}

// Adds a probability to a row's sum: given the normalisers, to the lane's sum in the key block,
// which the row's l takes at the block's end (one addition a score, where the block mass needs
// it anyway); otherwise to l.
template <bool kGivenLse>
__device__ __forceinline__ void add_mass(RowState& st, float& in_block, float w) {
  if constexpr (kGivenLse) {
    in_block += w;
  } else {
    st.l += w;
  }
}

// The statistics of row i from its merged state and list.
// kStoreLse: the row's log2-normaliser goes to the workspace for the block-mass pass.
template <int K, bool kStoreLse>
__device__ __forceinline__ void write_row(const AttentionStatsParams& p, int head, int i,
                                          const RowState& st, const TopList<K>& list) {
  if (i >= p.seq) return;
  const float log2_l = log2f(st.l);
  const float lse2 = st.m + log2_l;
  const int64_t o = int64_t{head} * p.seq + i;
  p.entropy[o] = mma::kLn2 * (log2_l - st.t / st.l);  // lse - Σ p·s, without cancellation
  p.sink_mass[o] = st.sink / st.l;
  p.local_mass[o] = st.local / st.l;
  p.max_prob[o] = exp2f(list.score[0] - lse2);
  p.argmax[o] = list.key[0];
  if constexpr (kStoreLse) p.lse2[o] = lse2;
#pragma unroll
  for (int r = 0; r < K; ++r) {
    if (r < p.topk) {
      p.topk_index[o * p.topk + r] = list.key[r];
      p.topk_prob[o * p.topk + r] = list.key[r] >= 0 ? exp2f(list.score[r] - lse2) : 0.0f;
    }
  }
}

// Sums a CTA's per-warp partials of one key block in a fixed order and writes the mean over the
// block's rows; thread 0 only.
template <int kWarpsInCta>
__device__ __forceinline__ void write_block_entry(float* out, int block, const float* partial,
                                                  float inv_rows) {
  float total = 0.0f;
  for (int w = 0; w < kWarpsInCta; ++w) total += partial[w];
  out[block] = total * inv_rows;
}

// CTAs a multiprocessor should hold: lists of up to 8 fit 128 registers a thread, so 16 warps
// share it (left free, ptxas takes 121-147 and fewer CTAs fit). mma.sync keeps Q in registers:
// there CTAs of 4 warps would spill at 128, and ask for no minimum. Lists of 16 would spill.
constexpr int stats_min_ctas(int k, int warps) {
#if defined(HEADSCOPE_WGMMA)
  return k <= 8 ? 16 / warps : 1;
#else
  return k <= 8 && warps == 8 ? 2 : 1;
#endif
}

// kWarps x 16 query rows per CTA (4: blocks of 64; 8: blocks of 128, given normalisers only).
template <typename T, int D, int K, int kWarps, bool kGivenLse>
__global__ void __launch_bounds__(kWarps * 32, stats_min_ctas(K, kWarps))
    stats_kernel(AttentionStatsParams p) {
  constexpr int kThreads = kWarps * 32;
  constexpr int kRows = kWarps * mma::kRowsPerWarp;
  constexpr int kSubTiles = kRows / kKeyTile;  // key tiles per key block (one pass only)
  static_assert(kGivenLse || kWarps == 4, "the online pass has 64-row tiles");
  extern __shared__ __align__(128) unsigned char smem_raw[];
  T* q_tile = reinterpret_cast<T*>(mma::align_smem(smem_raw));
  T* k_tiles = q_tile + kRows * D;      // two buffers: the next tile loads while this one is scored
  __shared__ float partial[2][kWarps];  // block-mass sums of the warps, double-buffered

  const int n_tiles = (p.seq + kRows - 1) / kRows;
  const int qt = n_tiles - 1 - static_cast<int>(blockIdx.x);  // longest rows first
  const int row0 = qt * kRows;
  const int head = blockIdx.y;
  const int kv_head = head / (p.heads / p.kv_heads);
  const T* q = static_cast<const T*>(p.q) + head * p.q_head_stride;
  const T* k = static_cast<const T*>(p.k) + kv_head * p.k_head_stride;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int warp_row0 = warp * mma::kRowsPerWarp;
  // This lane's rows (h = 0, 1) and the first of its two columns in each 8-key fragment.
  int row[2];
  row[0] = row0 + warp_row0 + lane / 4;
  row[1] = row[0] + 8;
  const int col = 2 * (lane % 4);
  const float scale2 = p.scale * mma::kLog2e;
  const float inv_scale2 = 1.0f / scale2;

  // Key tiles some row of the CTA sees; tiles in [interior_lo, interior_hi) need no per-key
  // test for any of its rows.
  const int last_row = min(row0 + kRows, p.seq) - 1;
  const int first_tile = p.sliding_window > 0 ? max(0, row0 - p.sliding_window + 1) / kKeyTile : 0;
  const int last_tile = last_row / kKeyTile;
  int interior_lo = (p.sink + kKeyTile - 1) / kKeyTile;
  if (p.sliding_window > 0) {
    interior_lo = max(interior_lo, (last_row - p.sliding_window + 1 + kKeyTile - 1) / kKeyTile);
  }
  // Tiles ending before the causal diagonal and before the first row's local window.
  const int interior_hi = min(row0, row0 - p.window + 1) / kKeyTile;

  RowState state[2];
  TopList<K> top[2];
  top[0].clear();
  top[1].clear();
  // One pass: this CTA's row of the block-mass matrix, zero where its rows see no key.
  float* block_out = nullptr;
  float inv_rows = 0.0f;
  if constexpr (kGivenLse) {
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      // Rows past the end weigh nothing (2^(s - inf) = 0) and are never written.
      state[h].m = row[h] < p.seq ? p.lse2[int64_t{head} * p.seq + row[h]] : INFINITY;
    }
    block_out = p.block_mass + (int64_t{head} * n_tiles + qt) * n_tiles;
    inv_rows = 1.0f / static_cast<float>(last_row - row0 + 1);
    const int kb_lo = first_tile / kSubTiles, kb_hi = last_tile / kSubTiles;
    for (int kb = threadIdx.x; kb < n_tiles; kb += kThreads) {
      if (kb < kb_lo || kb > kb_hi) block_out[kb] = 0.0f;
    }
  }
  float row_block[2] = {0.0f, 0.0f};  // one pass: this lane's mass per row in the key block
  int pending_block = -1;             // a key block whose warp partials wait in partial[slot ^ 1]
  int slot = 0;

  mma::load_rows_async<T, D, kRows, kThreads>(q_tile, q, p.q_token_stride, row0, p.seq);
  mma::load_key_tile_async<T, D, kThreads>(k_tiles, 0, k, p.k_token_stride, first_tile, p.seq);
  for (int tile = first_tile, buf = 0; tile <= last_tile; ++tile, buf ^= 1) {
    mma::cp_async_wait<0>();
    // This tile's keys are in; every warp is done with the other buffer and has written its
    // last partials.
    __syncthreads();
    if (kGivenLse && pending_block >= 0 && threadIdx.x == 0) {
      write_block_entry<kWarps>(block_out, pending_block, partial[slot ^ 1], inv_rows);
    }
    pending_block = -1;
    if (tile < last_tile) {
      mma::load_key_tile_async<T, D, kThreads>(k_tiles, buf ^ 1, k, p.k_token_stride, tile + 1,
                                               p.seq);
    }
    Frag s[kKeyFrags];
    mma::score_tile_q_smem<T, D, kRows>(s, q_tile, k_tiles + buf * kKeyTile * D);

    const int j0 = tile * kKeyTile + col;
    if (tile >= interior_lo && tile < interior_hi) {
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        float tile_max = -INFINITY;
#pragma unroll
        for (int n = 0; n < kKeyFrags; ++n) {
          tile_max = fmaxf(tile_max, fmaxf(s[n][2 * h], s[n][2 * h + 1]));
        }
        RowState& st = state[h];
        if constexpr (!kGivenLse) st.raise_max(tile_max * scale2);
#pragma unroll
        for (int n = 0; n < kKeyFrags; ++n) {
#pragma unroll
          for (int e = 0; e < 2; ++e) {
            const float x = fmaf(s[n][2 * h + e], scale2, -st.m);
            const float w = mma::fast_exp2(x);
            add_mass<kGivenLse>(st, row_block[h], w);
            st.t = fmaf(w, x, st.t);
          }
        }
        const float bar = top_bar(top[h]);
        // This lane's candidates as a mask over its 16 keys (bit 2n + e), by unscaled score
        // against a slightly lowered bar; the exact test follows.
        uint32_t candidates = 0;
        if (tile_max * scale2 >= bar) {
          const float raw_bar = bar * inv_scale2 - fabsf(bar * inv_scale2) * 1e-5f;
#pragma unroll
          for (int n = 0; n < kKeyFrags; ++n) {
#pragma unroll
            for (int e = 0; e < 2; ++e) {
              candidates |= (s[n][2 * h + e] >= raw_bar ? 1u : 0u) << (2 * n + e);
            }
          }
        }
        // All lanes insert their next candidate together: the warp runs one insertion per
        // round (as many rounds as the busiest lane has candidates), not one per key slot some
        // lane inserts at.
        while (__any_sync(0xffffffffu, candidates != 0)) {
          if (candidates != 0) {
            const int c = __ffs(candidates) - 1;
            candidates &= candidates - 1;
            const float v = select_score(s, h, c) * scale2;
            if (v >= bar && v > top[h].score[K - 1]) {
              top[h].insert_later(v, j0 + 8 * (c >> 1) + (c & 1));
            }
          }
        }
      }
    } else {
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const int i = row[h];
        const int key_lo = p.sliding_window > 0 ? i - p.sliding_window + 1 : 0;
        const int local_lo = i - p.window + 1;
        RowState& st = state[h];
        if constexpr (!kGivenLse) {
          float tile_max = -INFINITY;
#pragma unroll
          for (int n = 0; n < kKeyFrags; ++n) {
#pragma unroll
            for (int e = 0; e < 2; ++e) {
              const int j = j0 + 8 * n + e;
              if (j <= i && j >= key_lo && i < p.seq) tile_max = fmaxf(tile_max, s[n][2 * h + e]);
            }
          }
          st.raise_max(tile_max * scale2);
        }
#pragma unroll
        for (int n = 0; n < kKeyFrags; ++n) {
#pragma unroll
          for (int e = 0; e < 2; ++e) {
            const int j = j0 + 8 * n + e;
            if (j > i || j < key_lo || i >= p.seq) continue;
            const float v = s[n][2 * h + e] * scale2;
            const float x = fmaf(s[n][2 * h + e], scale2, -st.m);
            const float w = mma::fast_exp2(x);
            add_mass<kGivenLse>(st, row_block[h], w);
            st.t = fmaf(w, x, st.t);
            if (j < p.sink) st.sink += w;
            if (j >= local_lo) st.local += w;
            if (v > top[h].score[K - 1]) top[h].insert_later(v, j);
          }
        }
      }
    }
    if constexpr (kGivenLse) {
      if ((tile + 1) % kSubTiles == 0 || tile == last_tile) {
        state[0].l += row_block[0];
        state[1].l += row_block[1];
        float block_sum = row_block[0] + row_block[1];
        row_block[0] = row_block[1] = 0.0f;
#pragma unroll
        for (int offset = 16; offset > 0; offset /= 2) {
          block_sum += __shfl_xor_sync(0xffffffffu, block_sum, offset);
        }
        if (lane == 0) partial[slot][warp] = block_sum;
        pending_block = tile / kSubTiles;
        slot ^= 1;
      }
    }
  }
  if constexpr (kGivenLse) {
    __syncthreads();
    if (pending_block >= 0 && threadIdx.x == 0) {
      write_block_entry<kWarps>(block_out, pending_block, partial[slot ^ 1], inv_rows);
    }
  }

#pragma unroll
  for (int h = 0; h < 2; ++h) {
    state[h].merge_lane(1);
    state[h].merge_lane(2);
    top[h].merge_lane(1);
    top[h].merge_lane(2);
  }
  // Lane 4g + h writes row h of group g (static indices keep the lists in registers).
  if (lane % 4 == 0) write_row<K, !kGivenLse>(p, head, row[0], state[0], top[0]);
  if (lane % 4 == 1) write_row<K, !kGivenLse>(p, head, row[1], state[1], top[1]);
}

// Pass 2 for query blocks of kBlockWarps x 16 rows.
template <typename T, int D, int kBlockWarps>
__global__ void __launch_bounds__(kBlockWarps * 32) block_kernel(AttentionStatsParams p) {
  constexpr int kBlock = kBlockWarps * mma::kRowsPerWarp;
  constexpr int kBlockThreads = kBlockWarps * 32;
  constexpr int kSubTiles = kBlock / kKeyTile;  // key tiles per key block
  extern __shared__ __align__(128) unsigned char smem_raw[];
  T* q_block = reinterpret_cast<T*>(mma::align_smem(smem_raw));
  T* k_tiles = q_block + kBlock * D;  // two buffers
  __shared__ float partial[2][kBlockWarps];

  const int n_blocks = (p.seq + kBlock - 1) / kBlock;
  const int qb = n_blocks - 1 - static_cast<int>(blockIdx.x), head = blockIdx.y;
  const int kv_head = head / (p.heads / p.kv_heads);
  const T* q = static_cast<const T*>(p.q) + head * p.q_head_stride;
  const T* k = static_cast<const T*>(p.k) + kv_head * p.k_head_stride;
  const int first_row = qb * kBlock, last_row = min(p.seq, first_row + kBlock) - 1;
  const int key_lo = p.sliding_window > 0 ? max(0, first_row - p.sliding_window + 1) : 0;
  const int kb_lo = key_lo / kBlock, kb_hi = last_row / kBlock;
  float* out = p.block_mass + (int64_t{head} * n_blocks + qb) * n_blocks;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int col = 2 * (lane % 4);

  for (int kb = threadIdx.x; kb < n_blocks; kb += kBlockThreads) {
    if (kb < kb_lo || kb > kb_hi) out[kb] = 0.0f;  // keys this block never sees
  }
  int row[2];
  float lse2[2];
  row[0] = first_row + warp * mma::kRowsPerWarp + lane / 4;
  row[1] = row[0] + 8;
#pragma unroll
  for (int h = 0; h < 2; ++h) {
    // Rows past the end weigh nothing: 2^(s - inf) = 0.
    lse2[h] = row[h] < p.seq ? p.lse2[int64_t{head} * p.seq + row[h]] : INFINITY;
  }
  const float scale2 = p.scale * mma::kLog2e;
  const float inv_rows = 1.0f / static_cast<float>(last_row - first_row + 1);
  // Tiles wholly below the block's first row and inside every row's sliding window.
  const int interior_lo =
      p.sliding_window > 0 ? (last_row - p.sliding_window + 1 + kKeyTile - 1) / kKeyTile : 0;
  const int interior_hi = first_row / kKeyTile;

  const int kt_first = kb_lo * kSubTiles, kt_last = last_row / kKeyTile;
  mma::load_rows_async<T, D, kBlock, kBlockThreads>(q_block, q, p.q_token_stride, first_row, p.seq);
  mma::load_key_tile_async<T, D, kBlockThreads>(k_tiles, 0, k, p.k_token_stride, kt_first, p.seq);
  float sum = 0.0f;
  int pending_block = -1;  // a key block whose warp partials wait in partial[slot ^ 1]
  int slot = 0;
  for (int kt = kt_first, buf = 0; kt <= kt_last; ++kt, buf ^= 1) {
    mma::cp_async_wait<0>();
    __syncthreads();  // tile kt is in; the other buffer is free; the last partials are written
    if (pending_block >= 0 && threadIdx.x == 0) {
      write_block_entry<kBlockWarps>(out, pending_block, partial[slot ^ 1], inv_rows);
    }
    pending_block = -1;
    if (kt < kt_last) {
      mma::load_key_tile_async<T, D, kBlockThreads>(k_tiles, buf ^ 1, k, p.k_token_stride, kt + 1,
                                                    p.seq);
    }
    Frag s[kKeyFrags];
    mma::score_tile_q_smem<T, D, kBlock>(s, q_block, k_tiles + buf * kKeyTile * D);
    const int j0 = kt * kKeyTile + col;
    if (kt >= interior_lo && kt < interior_hi) {
#pragma unroll
      for (int n = 0; n < kKeyFrags; ++n) {
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          sum += mma::fast_exp2(fmaf(s[n][e], scale2, -lse2[e / 2]));
        }
      }
    } else {
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const int i = row[h];
        const int lo = p.sliding_window > 0 ? i - p.sliding_window + 1 : 0;
#pragma unroll
        for (int n = 0; n < kKeyFrags; ++n) {
#pragma unroll
          for (int e = 0; e < 2; ++e) {
            const int j = j0 + 8 * n + e;
            if (j <= i && j >= lo && i < p.seq) {
              sum += mma::fast_exp2(fmaf(s[n][2 * h + e], scale2, -lse2[h]));
            }
          }
        }
      }
    }
    if ((kt + 1) % kSubTiles != 0 && kt != kt_last) continue;
#pragma unroll
    for (int offset = 16; offset > 0; offset /= 2) sum += __shfl_xor_sync(0xffffffffu, sum, offset);
    if (lane == 0) partial[slot][warp] = sum;
    pending_block = kt / kSubTiles;
    slot ^= 1;
    sum = 0.0f;
  }
  __syncthreads();
  if (pending_block >= 0 && threadIdx.x == 0) {
    write_block_entry<kBlockWarps>(out, pending_block, partial[slot ^ 1], inv_rows);
  }
}

template <typename T, int D, int K>
std::string launch_typed(const AttentionStatsParams& p, cudaStream_t stream) {
  if (p.block_size != 64 && p.block_size != 128) {
    return "attention_stats_launch: block_size must be 64 or 128";
  }
  if (p.lse2_given) {
    // One pass; a CTA is one query block, so the block mass is summed where it is computed.
    if (p.block_mass == nullptr) return "attention_stats_launch: one pass needs block_mass";
    const int n_blocks = (p.seq + p.block_size - 1) / p.block_size;
    if (p.block_size == 64) {
      return mma::launch(stats_kernel<T, D, K, 4, true>, dim3(n_blocks, p.heads), 128,
                         tile_bytes<T, D>(64 + 2 * kKeyTile), stream, p);
    }
    return mma::launch(stats_kernel<T, D, K, 8, true>, dim3(n_blocks, p.heads), 256,
                       tile_bytes<T, D>(128 + 2 * kKeyTile), stream, p);
  }
  const int n_tiles = (p.seq + kStatsTile - 1) / kStatsTile;
  std::string error = mma::launch(stats_kernel<T, D, K, 4, false>, dim3(n_tiles, p.heads), 128,
                                  tile_bytes<T, D>(kStatsTile + 2 * kKeyTile), stream, p);
  if (!error.empty() || p.block_mass == nullptr) return error;
  const int n_blocks = (p.seq + p.block_size - 1) / p.block_size;
  if (p.block_size == 64) {
    return mma::launch(block_kernel<T, D, 4>, dim3(n_blocks, p.heads), 128,
                       tile_bytes<T, D>(64 + 2 * kKeyTile), stream, p);
  }
  return mma::launch(block_kernel<T, D, 8>, dim3(n_blocks, p.heads), 256,
                     tile_bytes<T, D>(128 + 2 * kKeyTile), stream, p);
}

// The top-k list is as long as the next power of two at or above k.
template <typename T, int D>
std::string launch_topk(const AttentionStatsParams& p, cudaStream_t stream) {
  if (p.topk <= 1) return launch_typed<T, D, 1>(p, stream);
  if (p.topk <= 2) return launch_typed<T, D, 2>(p, stream);
  if (p.topk <= 4) return launch_typed<T, D, 4>(p, stream);
  if (p.topk <= 8) return launch_typed<T, D, 8>(p, stream);
  if (p.topk <= kStatsMaxTopk) return launch_typed<T, D, kStatsMaxTopk>(p, stream);
  return "attention_stats_launch: topk must be at most 16";
}

}  // namespace

std::string attention_stats_launch(const AttentionStatsParams& p, void* stream) {
  auto s = static_cast<cudaStream_t>(stream);
  return switch_dtype_dim(p.bf16, p.head_dim, "attention_stats_launch", [&](auto type, auto dim) {
    return launch_topk<typename decltype(type)::type, decltype(dim)::value>(p, s);
  });
}

}  // namespace headscope::cuda
