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

// o (+)= A·B for one 16-key step: A the warpgroup's 64 rows x 16 keys from registers (the
// mma.sync A-fragment layout, per warp), B a [16 keys, N] slice of a swizzled [64, N] tile
// read N-major (transposed), o the N/8 accumulator fragments.
template <typename T, int N>
__device__ __forceinline__ void wgmma_rs_64xNx16(Frag (&o)[N / 8], const uint32_t (&a)[4],
                                                 uint64_t b, int accumulate);

#define HEADSCOPE_WGMMA_RS_64x64x16(TYPE)                                                         \
  asm volatile(                                                                                   \
      "{\n.reg .pred p;\nsetp.ne.b32 p, %37, 0;\n"                                                \
      "wgmma.mma_async.sync.aligned.m64n64k16.f32." TYPE "." TYPE                                 \
      " "                                                                                         \
      "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, "    \
      "%19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31}, "                        \
      "{%32, %33, %34, %35}, %36, p, 1, 1, 1;\n}\n"                                               \
      : "+f"(o[0][0]), "+f"(o[0][1]), "+f"(o[0][2]), "+f"(o[0][3]), "+f"(o[1][0]), "+f"(o[1][1]), \
        "+f"(o[1][2]), "+f"(o[1][3]), "+f"(o[2][0]), "+f"(o[2][1]), "+f"(o[2][2]), "+f"(o[2][3]), \
        "+f"(o[3][0]), "+f"(o[3][1]), "+f"(o[3][2]), "+f"(o[3][3]), "+f"(o[4][0]), "+f"(o[4][1]), \
        "+f"(o[4][2]), "+f"(o[4][3]), "+f"(o[5][0]), "+f"(o[5][1]), "+f"(o[5][2]), "+f"(o[5][3]), \
        "+f"(o[6][0]), "+f"(o[6][1]), "+f"(o[6][2]), "+f"(o[6][3]), "+f"(o[7][0]), "+f"(o[7][1]), \
        "+f"(o[7][2]), "+f"(o[7][3])                                                              \
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(b), "r"(accumulate))

#define HEADSCOPE_WGMMA_RS_64x128x16(TYPE)                                                         \
  asm volatile(                                                                                    \
      "{\n.reg .pred p;\nsetp.ne.b32 p, %69, 0;\n"                                                 \
      "wgmma.mma_async.sync.aligned.m64n128k16.f32." TYPE "." TYPE                                 \
      " "                                                                                          \
      "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, "     \
      "%19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, " \
      "%37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, " \
      "%55, %56, %57, %58, %59, %60, %61, %62, %63}, "                                             \
      "{%64, %65, %66, %67}, %68, p, 1, 1, 1;\n}\n"                                                \
      : "+f"(o[0][0]), "+f"(o[0][1]), "+f"(o[0][2]), "+f"(o[0][3]), "+f"(o[1][0]), "+f"(o[1][1]),  \
        "+f"(o[1][2]), "+f"(o[1][3]), "+f"(o[2][0]), "+f"(o[2][1]), "+f"(o[2][2]), "+f"(o[2][3]),  \
        "+f"(o[3][0]), "+f"(o[3][1]), "+f"(o[3][2]), "+f"(o[3][3]), "+f"(o[4][0]), "+f"(o[4][1]),  \
        "+f"(o[4][2]), "+f"(o[4][3]), "+f"(o[5][0]), "+f"(o[5][1]), "+f"(o[5][2]), "+f"(o[5][3]),  \
        "+f"(o[6][0]), "+f"(o[6][1]), "+f"(o[6][2]), "+f"(o[6][3]), "+f"(o[7][0]), "+f"(o[7][1]),  \
        "+f"(o[7][2]), "+f"(o[7][3]), "+f"(o[8][0]), "+f"(o[8][1]), "+f"(o[8][2]), "+f"(o[8][3]),  \
        "+f"(o[9][0]), "+f"(o[9][1]), "+f"(o[9][2]), "+f"(o[9][3]), "+f"(o[10][0]),                \
        "+f"(o[10][1]), "+f"(o[10][2]), "+f"(o[10][3]), "+f"(o[11][0]), "+f"(o[11][1]),            \
        "+f"(o[11][2]), "+f"(o[11][3]), "+f"(o[12][0]), "+f"(o[12][1]), "+f"(o[12][2]),            \
        "+f"(o[12][3]), "+f"(o[13][0]), "+f"(o[13][1]), "+f"(o[13][2]), "+f"(o[13][3]),            \
        "+f"(o[14][0]), "+f"(o[14][1]), "+f"(o[14][2]), "+f"(o[14][3]), "+f"(o[15][0]),            \
        "+f"(o[15][1]), "+f"(o[15][2]), "+f"(o[15][3])                                             \
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(b), "r"(accumulate))

template <>
__device__ __forceinline__ void wgmma_rs_64xNx16<__nv_bfloat16, 64>(Frag (&o)[8],
                                                                    const uint32_t (&a)[4],
                                                                    uint64_t b, int accumulate) {
  HEADSCOPE_WGMMA_RS_64x64x16("bf16");
}
template <>
__device__ __forceinline__ void wgmma_rs_64xNx16<__half, 64>(Frag (&o)[8], const uint32_t (&a)[4],
                                                             uint64_t b, int accumulate) {
  HEADSCOPE_WGMMA_RS_64x64x16("f16");
}
template <>
__device__ __forceinline__ void wgmma_rs_64xNx16<__nv_bfloat16, 128>(Frag (&o)[16],
                                                                     const uint32_t (&a)[4],
                                                                     uint64_t b, int accumulate) {
  HEADSCOPE_WGMMA_RS_64x128x16("bf16");
}
template <>
__device__ __forceinline__ void wgmma_rs_64xNx16<__half, 128>(Frag (&o)[16], const uint32_t (&a)[4],
                                                              uint64_t b, int accumulate) {
  HEADSCOPE_WGMMA_RS_64x128x16("f16");
}

#undef HEADSCOPE_WGMMA_RS_64x64x16
#undef HEADSCOPE_WGMMA_RS_64x128x16

// Descriptor of a swizzled tile read N-major (B transposed): 8-row groups (one per 8 keys)
// 1024 bytes apart, 64-column blocks `block_bytes` apart.
__device__ __forceinline__ uint64_t sw128_descriptor_n_major(const void* p, int block_bytes) {
  const uint64_t address = smem_address(p);
  return ((address & 0x3FFFF) >> 4) | (uint64_t(block_bytes >> 4) << 16) |
         (uint64_t{1024 >> 4} << 32) | (uint64_t{1} << 62);
}

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
  // A step's descriptor is the tile's plus its constant offset (16-byte units in the low bits,
  // which stay below 2^14 for any shared-memory address): two additions a step, not two
  // address conversions.
  const uint64_t q_desc = sw128_descriptor(q_rows), k_desc = sw128_descriptor(k_tile);
  asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
#pragma unroll
  for (int kk = 0; kk < D / 16; ++kk) {
    const int block = kk / 4, step = (kk % 4) * 16;  // 64-column block, column inside it
    constexpr int kUnit = 16 / sizeof(T);            // elements per 16 bytes
    wgmma_64x64x16<T>(s, q_desc + (block * kQRows * 64 + step) / kUnit,
                      k_desc + (block * kKeyTile * 64 + step) / kUnit, kk > 0 ? 1 : 0);
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

namespace headscope::cuda::mma {

// o += P·V for this warp's 16 rows: P the score tile's probabilities (rounded to T), V a
// swizzled [64, D] tile. With wgmma the warpgroup multiplies its 64 rows at once, P from
// registers; elsewhere mma.sync (accumulate_pv). Every warp of the CTA must call it together.
template <typename T, int D>
__device__ __forceinline__ void accumulate_pv_warpgroup(Frag (&o)[D / 8],
                                                        const Frag (&p)[kKeyFrags],
                                                        const T* v_tile) {
#if defined(HEADSCOPE_WGMMA)
  uint32_t a[kKeyTile / 16][4];
#pragma unroll
  for (int kk = 0; kk < kKeyTile / 16; ++kk) {
    a[kk][0] = pack(p[2 * kk][0], p[2 * kk][1], static_cast<T*>(nullptr));
    a[kk][1] = pack(p[2 * kk][2], p[2 * kk][3], static_cast<T*>(nullptr));
    a[kk][2] = pack(p[2 * kk + 1][0], p[2 * kk + 1][1], static_cast<T*>(nullptr));
    a[kk][3] = pack(p[2 * kk + 1][2], p[2 * kk + 1][3], static_cast<T*>(nullptr));
  }
  asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
#pragma unroll
  for (int kk = 0; kk < kKeyTile / 16; ++kk) {
    // 16 keys = two 8-row groups, 2048 bytes into every 64-column block.
    wgmma_rs_64xNx16<T, D>(
        o, a[kk], sw128_descriptor_n_major(v_tile + kk * 16 * 64, kKeyTile * 64 * sizeof(T)), 1);
  }
  asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
  asm volatile("wgmma.wait_group.sync.aligned 0;\n" ::: "memory");
#else
  accumulate_pv<T, D>(o, p, v_tile);
#endif
}

}  // namespace headscope::cuda::mma
