// IEEE 754 binary16 <-> float32 conversion on bit patterns. HDF5 converts to its own 16-bit
// float types in software at about 90 ns per element, which would dominate writing attention
// maps; these run at memory speed.
#pragma once

#include <cstdint>
#include <cstring>

namespace headscope {

// Rounds to nearest, ties to even (as numpy and CUDA do); overflow gives infinity, NaN stays NaN.
inline uint16_t float16_from_f32(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  const auto sign = static_cast<uint16_t>((bits >> 16) & 0x8000u);
  const uint32_t magnitude = bits & 0x7fffffffu;
  if (magnitude >= 0x7f800000u) {
    return sign | (magnitude == 0x7f800000u ? 0x7c00u : 0x7e00u);
  }
  // 65520 is halfway between the largest half (65504) and 2^16; the tie goes to the even 2^16.
  if (magnitude >= 0x477ff000u) return sign | 0x7c00u;
  if (magnitude >= 0x38800000u) {
    // Normal half: rebias the exponent (127 -> 15) and round away the low 13 mantissa bits.
    // A carry out of the mantissa correctly bumps the exponent.
    const uint32_t odd = (magnitude >> 13) & 1u;
    return sign | static_cast<uint16_t>((magnitude - 0x38000000u + 0xfffu + odd) >> 13);
  }
  // Subnormal half: value / 2^-24 rounded, where value = mantissa * 2^(exponent - 150).
  const uint32_t exponent = magnitude >> 23;
  if (exponent < 102) return sign;  // below half the smallest subnormal
  const uint32_t mantissa = (magnitude & 0x7fffffu) | 0x800000u;
  const uint32_t shift = 126 - exponent;  // 14..24
  const uint32_t kept = mantissa >> shift;
  const uint32_t rest = mantissa & ((1u << shift) - 1u);
  const uint32_t half = 1u << (shift - 1);
  const bool round_up = rest > half || (rest == half && (kept & 1u) != 0);
  return sign | static_cast<uint16_t>(kept + (round_up ? 1u : 0u));
}

// Exact: every half value is a float.
inline float f32_from_float16(uint16_t half) {
  const uint32_t sign = static_cast<uint32_t>(half & 0x8000u) << 16;
  const uint32_t exponent = (half >> 10) & 0x1fu;
  const uint32_t mantissa = half & 0x3ffu;
  uint32_t bits;
  if (exponent == 0x1fu) {
    bits = sign | 0x7f800000u | (mantissa << 13);
  } else if (exponent != 0) {
    bits = sign | ((exponent + 112u) << 23) | (mantissa << 13);
  } else {
    // Zero or subnormal: mantissa * 2^-24 is exact in float.
    const float magnitude = static_cast<float>(mantissa) * 0x1p-24f;
    std::memcpy(&bits, &magnitude, sizeof bits);
    bits |= sign;
  }
  float value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

}  // namespace headscope
