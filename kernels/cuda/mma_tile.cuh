// The tile engine both attention kernels are built on: tensor-core MMA (mma.sync m16n8k16,
// bf16/fp16 in, fp32 accumulate) on fragments that stay in registers, fed from shared-memory
// tiles by ldmatrix.
//
// A warp owns 16 query rows. Its score tile S = Q·Kᵀ over 64 keys is 8 accumulator fragments
// of 16x8; lane l holds rows g = l/4 and g + 8 and columns 2(l%4), 2(l%4) + 1 of each, i.e.
// s[n][0..1] is (row g, keys 8n + 2t, +1) and s[n][2..3] the same keys for row g + 8. Those
// registers are exactly the A operand of the next MMA (P·V), so probabilities never leave the
// warp.
//
// Shared-memory tiles hold [rows, D] 16-bit elements without padding, as blocks of 64 columns
// (128-byte rows; D = 128 is two blocks, one after the other), and the 16-byte chunk c of row r
// of a block sits at chunk c ^ (r % 8): the 8 rows an ldmatrix reads at once fall into 8
// different bank groups, and the tile is the 128-byte-swizzled K-major layout that wgmma reads
// (wgmma_tile.cuh) when its base is 1024-byte aligned.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <string>

// Hopper's warpgroup MMA and what only it needs (the async-proxy fence) exist in the sm_90a
// device pass alone; every other pass (sm_80, sm_90, PTX for later chips) takes the mma.sync
// path. Host code sees neither.
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define HEADSCOPE_WGMMA 1
#endif

namespace headscope::cuda::mma {

constexpr int kRowsPerWarp = 16;
constexpr int kKeyTile = 64;             // keys per score tile
constexpr int kKeyFrags = kKeyTile / 8;  // 16x8 accumulator fragments per score tile
constexpr float kLog2e = 1.4426950408889634f;
constexpr float kLn2 = 0.6931471805599453f;

using Frag = float[4];  // one 16x8 fp32 accumulator fragment (per lane)

// Element offset of (row, col) in a swizzled [kRows, D] tile; col a multiple of 8.
template <int kRows>
__device__ __forceinline__ int swizzled(int row, int col) {
  return (col >> 6) * (kRows * 64) + row * 64 + ((((col >> 3) & 7) ^ (row & 7)) << 3);
}

// Starts copying rows [row0, row0 + kRows) of a [T, D] matrix (last dim contiguous,
// token_stride elements apart) into a swizzled tile through cp.async; rows at or past `seq` are
// zero-filled. kThreads threads take part; cp_async_commit() closes a group of such copies.
// A thread copies one 16-byte column chunk of every (kThreads / chunks-per-row)-th row: that step
// is a multiple of 8 rows, so the swizzle is the same for all of its chunks, and each further
// chunk is a constant offset on both sides (the per-tile address work was a third of the
// statistics kernel's instructions when computed per chunk).
template <typename T, int D, int kRows, int kThreads>
__device__ __forceinline__ void load_rows_async(T* tile, const T* src, int64_t token_stride,
                                                int row0, int seq) {
  constexpr int kChunks = D / 8;  // 16-byte chunks per row
  constexpr int kRowStep = kThreads / kChunks;
  static_assert(kThreads % kChunks == 0 && kRowStep % 8 == 0 && kRows % kRowStep == 0,
                "a thread's chunks must share one swizzle");
  const int r0 = threadIdx.x / kChunks, c = (threadIdx.x % kChunks) * 8;
  const T* from = src + int64_t{row0 + r0} * token_stride + c;
  const int64_t step = int64_t{kRowStep} * token_stride;
  const unsigned to =
      static_cast<unsigned>(__cvta_generic_to_shared(tile + swizzled<kRows>(r0, c)));
#pragma unroll
  for (int i = 0; i < kRows / kRowStep; ++i) {
    const bool in_range = row0 + r0 + i * kRowStep < seq;
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(
                     to + unsigned(i * kRowStep * 64 * sizeof(T))),
                 "l"(in_range ? from + i * step : src), "r"(in_range ? 16 : 0)
                 : "memory");
  }
}

__device__ __forceinline__ void cp_async_commit() {
  asm volatile("cp.async.commit_group;\n" ::: "memory");
}

// Starts loading key tile `key_tile` (rows 64·key_tile onwards) into buffer `buf` of
// consecutive [64, D] tiles, closing the commit group (with any copies issued before it).
template <typename T, int D, int kThreads>
__device__ __forceinline__ void load_key_tile_async(T* buffers, int buf, const T* src,
                                                    int64_t token_stride, int key_tile, int seq) {
  load_rows_async<T, D, kKeyTile, kThreads>(buffers + buf * kKeyTile * D, src, token_stride,
                                            key_tile * kKeyTile, seq);
  cp_async_commit();
}

// Waits until at most `pending` of this thread's newest commit groups are still in flight.
template <int pending>
__device__ __forceinline__ void cp_async_wait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(pending) : "memory");
#if defined(HEADSCOPE_WGMMA)
  // The copies are ordinary shared-memory writes; wgmma reads through the async proxy (the
  // fence is sm_90 PTX: ptxas rejects it for sm_80, whose mma.sync reads the generic proxy).
  asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
#endif
}

__device__ __forceinline__ unsigned smem_address(const void* p) {
  return static_cast<unsigned>(__cvta_generic_to_shared(p));
}

__device__ __forceinline__ void ldmatrix_x4(uint32_t (&r)[4], const void* row_address) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(smem_address(row_address)));
}

__device__ __forceinline__ void ldmatrix_x4_trans(uint32_t (&r)[4], const void* row_address) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(smem_address(row_address)));
}

// c += a·b for one 16x8x16 step.
template <typename T>
__device__ __forceinline__ void mma_16816(Frag& c, const uint32_t (&a)[4], uint32_t b0,
                                          uint32_t b1);

template <>
__device__ __forceinline__ void mma_16816<__nv_bfloat16>(Frag& c, const uint32_t (&a)[4],
                                                         uint32_t b0, uint32_t b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, "
      "{%8,%9}, {%0,%1,%2,%3};\n"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

template <>
__device__ __forceinline__ void mma_16816<__half>(Frag& c, const uint32_t (&a)[4], uint32_t b0,
                                                  uint32_t b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, "
      "{%8,%9}, {%0,%1,%2,%3};\n"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// Two floats as one register of two 16-bit values, `lo` in the low half (the lower column).
__device__ __forceinline__ uint32_t pack(float lo, float hi, __nv_bfloat16*) {
  const __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
  return *reinterpret_cast<const uint32_t*>(&v);
}
__device__ __forceinline__ uint32_t pack(float lo, float hi, __half*) {
  const __half2 v = __floats2half2_rn(lo, hi);
  return *reinterpret_cast<const uint32_t*>(&v);
}

// The warp's 16 rows of a swizzled [kRows, D] tile (rows row0..row0+15) as MMA A fragments, one
// per 16 columns: loaded once, they are the Q operand of every score tile.
template <typename T, int D, int kRows>
__device__ __forceinline__ void load_a_fragments(uint32_t (&a)[D / 16][4], const T* tile,
                                                 int row0) {
  const int lane = threadIdx.x % 32;
  const int row = row0 + (lane & 15);
#pragma unroll
  for (int kk = 0; kk < D / 16; ++kk) {
    ldmatrix_x4(a[kk], tile + swizzled<kRows>(row, kk * 16 + (lane >> 4) * 8));
  }
}

// s = Q·Kᵀ for the warp's 16 rows and the 64 keys of a swizzled K tile (s overwritten).
template <typename T, int D>
__device__ __forceinline__ void score_tile(Frag (&s)[kKeyFrags], const uint32_t (&q)[D / 16][4],
                                           const T* k_tile) {
  const int lane = threadIdx.x % 32;
#pragma unroll
  for (int n = 0; n < kKeyFrags; ++n) s[n][0] = s[n][1] = s[n][2] = s[n][3] = 0.0f;
  // ldmatrix x4 over keys 16p..16p+15: matrices (keys +0..7, d +0..7), (+0..7, +8..15),
  // (+8..15, +0..7), (+8..15, +8..15) = b0, b1 of fragment 2p, b0, b1 of fragment 2p + 1.
  const int key = (lane & 7) + ((lane >> 4) << 3);
  const int half = (lane >> 3) & 1;
#pragma unroll
  for (int kk = 0; kk < D / 16; ++kk) {
#pragma unroll
    for (int pair = 0; pair < kKeyFrags / 2; ++pair) {
      uint32_t b[4];
      ldmatrix_x4(b, k_tile + swizzled<kKeyTile>(pair * 16 + key, kk * 16 + half * 8));
      mma_16816<T>(s[2 * pair], q[kk], b[0], b[1]);
      mma_16816<T>(s[2 * pair + 1], q[kk], b[2], b[3]);
    }
  }
}

// o += P·V for the warp's 16 rows: P is the score tile's probabilities (rounded to T), V a
// swizzled [64, D] tile; o holds D/8 fragments of 16x8 output columns.
template <typename T, int D>
__device__ __forceinline__ void accumulate_pv(Frag (&o)[D / 8], const Frag (&p)[kKeyFrags],
                                              const T* v_tile) {
  const int lane = threadIdx.x % 32;
  // ldmatrix x4 trans over keys 16kk..+15 and columns 16c..+15: matrices (keys +0..7, cols
  // +0..7), (+8..15, +0..7), (+0..7, +8..15), (+8..15, +8..15) = b0, b1 of column fragment 2c,
  // b0, b1 of 2c + 1.
  const int key = (lane & 7) + (((lane >> 3) & 1) << 3);
  const int col_half = lane >> 4;
#pragma unroll
  for (int kk = 0; kk < kKeyTile / 16; ++kk) {
    uint32_t a[4];
    a[0] = pack(p[2 * kk][0], p[2 * kk][1], static_cast<T*>(nullptr));
    a[1] = pack(p[2 * kk][2], p[2 * kk][3], static_cast<T*>(nullptr));
    a[2] = pack(p[2 * kk + 1][0], p[2 * kk + 1][1], static_cast<T*>(nullptr));
    a[3] = pack(p[2 * kk + 1][2], p[2 * kk + 1][3], static_cast<T*>(nullptr));
#pragma unroll
    for (int c = 0; c < D / 16; ++c) {
      uint32_t b[4];
      ldmatrix_x4_trans(b, v_tile + swizzled<kKeyTile>(kk * 16 + key, c * 16 + col_half * 8));
      mma_16816<T>(o[2 * c], a, b[0], b[1]);
      mma_16816<T>(o[2 * c + 1], a, b[2], b[3]);
    }
  }
}

// 2^x on the special-function unit without exp2f's denormal handling (results under 2^-126
// flush to 0, far below anything the kernels report); 2^-inf = 0.
__device__ __forceinline__ float fast_exp2(float x) {
  float y;
  asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
  return y;
}

// Reductions over the 4 lanes that share a row.
__device__ __forceinline__ float quad_max(float x) {
  x = fmaxf(x, __shfl_xor_sync(0xffffffffu, x, 1));
  return fmaxf(x, __shfl_xor_sync(0xffffffffu, x, 2));
}
__device__ __forceinline__ float quad_sum(float x) {
  x += __shfl_xor_sync(0xffffffffu, x, 1);
  return x + __shfl_xor_sync(0xffffffffu, x, 2);
}

// Host side: launches `kernel` with `smem` bytes of dynamic shared memory (raising the
// kernel's limit first: above 48 KB it must be asked for). Returns an empty string or the CUDA
// error.
template <typename Kernel, typename Params>
std::string launch(Kernel kernel, dim3 grid, int threads, size_t smem, cudaStream_t stream,
                   const Params& params) {
  cudaError_t status =
      cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem));
  if (status == cudaSuccess) {
    kernel<<<grid, threads, smem, stream>>>(params);
    status = cudaGetLastError();
  }
  return status == cudaSuccess ? std::string() : std::string(cudaGetErrorString(status));
}

}  // namespace headscope::cuda::mma
