// Score tiles S = Q·Kᵀ with Hopper's warpgroup MMA (wgmma, sm_90a): a warpgroup of 4 warps
// multiplies its 64 query rows by 64 keys straight from shared memory, asynchronously, at about
// twice the rate of mma.sync. The accumulator comes back in the fragment layout of
// mma_tile.cuh (warp w of the group holds rows 16w..16w+15, s[n] = keys 8n..8n+7), so the
// kernels' per-score code is the same either way. Built for another architecture, score_tile
// falls back to ldmatrix + mma.sync with Q fragments read from shared memory (score_tile_q_smem).
//
// Both operands are the 128-byte-swizzled K-major tiles of mma_tile.cuh; a wgmma descriptor
// names one 16-column step: start address (advanced 32 bytes per step inside a 64-column
// block), stride 1024 bytes between 8-row groups, swizzle mode 128B. Tile bases must be
// 1024-byte aligned (align_smem).
#pragma once

#include "kernels/cuda/mma_tile.cuh"

#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define HEADSCOPE_WGMMA 1
#endif

namespace headscope::cuda::mma {

// Dynamic shared memory rounded up to 1024 bytes (the swizzle pattern's period); kernels ask
// for kSmemAlignSlack bytes more than their tiles need.
constexpr size_t kSmemAlignSlack = 1024;
__device__ __forceinline__ unsigned char* align_smem(unsigned char* p) {
  const auto offset = static_cast<unsigned>(__cvta_generic_to_shared(p)) & 1023u;
  return offset == 0 ? p : p + (1024 - offset);
}

#if defined(HEADSCOPE_WGMMA)

__device__ __forceinline__ uint64_t sw128_descriptor(const void* p) {
  const uint64_t address = smem_address(p);
  return ((address & 0x3FFFF) >> 4)     // start address, 16-byte units
         | (uint64_t{1} << 16)          // leading byte offset: unused for swizzled K-major
         | (uint64_t{1024 >> 4} << 32)  // stride byte offset: next 8-row group
         | (uint64_t{1} << 62);         // 128-byte swizzle
}

template <typename T>
__device__ __forceinline__ void wgmma_64x64x16(Frag (&s)[kKeyFrags], uint64_t a, uint64_t b,
                                               int accumulate);

#define HEADSCOPE_WGMMA_64x64x16(TYPE)                                                            \
  asm volatile(                                                                                   \
      "{\n.reg .pred p;\nsetp.ne.b32 p, %34, 0;\n"                                                \
      "wgmma.mma_async.sync.aligned.m64n64k16.f32." TYPE "." TYPE                                 \
      " "                                                                                         \
      "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, "                   \
      "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31}, "         \
      "%32, %33, p, 1, 1, 0, 0;\n}\n"                                                             \
      : "+f"(s[0][0]), "+f"(s[0][1]), "+f"(s[0][2]), "+f"(s[0][3]), "+f"(s[1][0]), "+f"(s[1][1]), \
        "+f"(s[1][2]), "+f"(s[1][3]), "+f"(s[2][0]), "+f"(s[2][1]), "+f"(s[2][2]), "+f"(s[2][3]), \
        "+f"(s[3][0]), "+f"(s[3][1]), "+f"(s[3][2]), "+f"(s[3][3]), "+f"(s[4][0]), "+f"(s[4][1]), \
        "+f"(s[4][2]), "+f"(s[4][3]), "+f"(s[5][0]), "+f"(s[5][1]), "+f"(s[5][2]), "+f"(s[5][3]), \
        "+f"(s[6][0]), "+f"(s[6][1]), "+f"(s[6][2]), "+f"(s[6][3]), "+f"(s[7][0]), "+f"(s[7][1]), \
        "+f"(s[7][2]), "+f"(s[7][3])                                                              \
      : "l"(a), "l"(b), "r"(accumulate))

template <>
__device__ __forceinline__ void wgmma_64x64x16<__nv_bfloat16>(Frag (&s)[kKeyFrags], uint64_t a,
                                                              uint64_t b, int accumulate) {
  HEADSCOPE_WGMMA_64x64x16("bf16");
}

template <>
__device__ __forceinline__ void wgmma_64x64x16<__half>(Frag (&s)[kKeyFrags], uint64_t a, uint64_t b,
                                                       int accumulate) {
  HEADSCOPE_WGMMA_64x64x16("f16");
}

#undef HEADSCOPE_WGMMA_64x64x16

#endif  // HEADSCOPE_WGMMA

// s = Q·Kᵀ for this warp's 16 rows (rows 16w..16w+15 of the swizzled [kQRows, D] tile q_tile,
// w the warp's index in the CTA) and the 64 keys of the swizzled K tile. Every warp of the
// CTA's warpgroups must call it together.
template <typename T, int D, int kQRows>
__device__ __forceinline__ void score_tile_q_smem(Frag (&s)[kKeyFrags], const T* q_tile,
                                                  const T* k_tile) {
  const int warp = threadIdx.x / 32;
#if defined(HEADSCOPE_WGMMA)
  const T* q_rows = q_tile + (warp / 4) * 64 * 64;  // the warpgroup's 64 rows in each block
#pragma unroll
  for (int n = 0; n < kKeyFrags; ++n) s[n][0] = s[n][1] = s[n][2] = s[n][3] = 0.0f;
  asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
#pragma unroll
  for (int kk = 0; kk < D / 16; ++kk) {
    const int block = kk / 4, step = (kk % 4) * 16;  // 64-column block, column inside it
    wgmma_64x64x16<T>(s, sw128_descriptor(q_rows + block * kQRows * 64 + step),
                      sw128_descriptor(k_tile + block * kKeyTile * 64 + step), kk > 0 ? 1 : 0);
  }
  asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
  asm volatile("wgmma.wait_group.sync.aligned 0;\n" ::: "memory");
#else
  uint32_t q[D / 16][4];
  load_a_fragments<T, D, kQRows>(q, q_tile, warp * kRowsPerWarp);
  score_tile<T, D>(s, q, k_tile);
#endif
}

}  // namespace headscope::cuda::mma
