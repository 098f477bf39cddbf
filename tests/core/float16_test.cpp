#include "core/base/float16.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace headscope {
namespace {

bool is_nan_bits(uint16_t bits) {
  return (bits & 0x7c00u) == 0x7c00u && (bits & 0x3ffu) != 0;
}

TEST(Float16, EveryHalfSurvivesTheRoundTrip) {
  for (uint32_t bits = 0; bits <= 0xffffu; ++bits) {
    const auto half = static_cast<uint16_t>(bits);
    const uint16_t back = float16_from_f32(f32_from_float16(half));
    if (is_nan_bits(half)) {
      EXPECT_TRUE(is_nan_bits(back)) << std::hex << bits;
    } else {
      EXPECT_EQ(back, half) << std::hex << bits;
    }
  }
}

TEST(Float16, WidensKnownValues) {
  EXPECT_EQ(f32_from_float16(0x3c00), 1.0f);
  EXPECT_EQ(f32_from_float16(0xc000), -2.0f);
  EXPECT_EQ(f32_from_float16(0x7bff), 65504.0f);
  EXPECT_EQ(f32_from_float16(0x0400), std::ldexp(1.0f, -14));
  EXPECT_EQ(f32_from_float16(0x0001), std::ldexp(1.0f, -24));
  EXPECT_EQ(f32_from_float16(0x7c00), std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::signbit(f32_from_float16(0x8000)));
}

// Between every two neighbouring finite halves: the midpoint goes to the even one, anything
// off the midpoint to the nearer one.
TEST(Float16, RoundsToNearestEven) {
  for (uint16_t low = 0; low < 0x7bff; ++low) {
    const auto high = static_cast<uint16_t>(low + 1);
    const float a = f32_from_float16(low);
    const float b = f32_from_float16(high);
    const float middle = (a + b) / 2;  // exact: halves have 11 significant bits
    const uint16_t even = (low & 1u) == 0 ? low : high;
    ASSERT_EQ(float16_from_f32(middle), even) << std::hex << low;
    ASSERT_EQ(float16_from_f32(std::nextafter(middle, 0.0f)), low) << std::hex << low;
    ASSERT_EQ(float16_from_f32(std::nextafter(middle, b)), high) << std::hex << low;
    ASSERT_EQ(float16_from_f32(-middle), static_cast<uint16_t>(even | 0x8000u)) << std::hex << low;
  }
}

TEST(Float16, SaturatesToInfinityAndKeepsSpecials) {
  EXPECT_EQ(float16_from_f32(65519.0f), 0x7bff);
  EXPECT_EQ(float16_from_f32(65520.0f), 0x7c00);
  EXPECT_EQ(float16_from_f32(1e10f), 0x7c00);
  EXPECT_EQ(float16_from_f32(-std::numeric_limits<float>::infinity()), 0xfc00);
  EXPECT_TRUE(is_nan_bits(float16_from_f32(std::numeric_limits<float>::quiet_NaN())));
  EXPECT_EQ(float16_from_f32(-0.0f), 0x8000);
  EXPECT_EQ(float16_from_f32(std::ldexp(1.0f, -25)), 0x0000);  // tie: to even zero
  EXPECT_EQ(float16_from_f32(std::numeric_limits<float>::denorm_min()), 0x0000);
}

}  // namespace
}  // namespace headscope
