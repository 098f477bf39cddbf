// The arithmetic of core/model/memory_estimate against what the code really allocates, and the
// refusal of allocations larger than the machine.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/base/error.h"
#include "core/model/memory_estimate.h"
#include "core/model/random_weights.h"
#include "tests/support/error_message.h"
#include "tests/support/fixtures.h"

namespace headscope {
namespace {

using ::testing::HasSubstr;

class MemoryEstimateFamilies : public ::testing::TestWithParam<std::string> {};

TEST_P(MemoryEstimateFamilies, ParameterCountIsExactlyWhatRandomWeightsMake) {
  const ModelConfig config = load_model_config(test::fixture("hf-tiny/" + GetParam()));
  const ModelWeights weights = random_model_weights(config, 0, torch::kFloat32, torch::kCPU);
  EXPECT_EQ(parameter_count(config), static_cast<double>(weights.parameter_count()));
  EXPECT_EQ(weight_bytes(config, 2), 2.0 * static_cast<double>(weights.parameter_count()));
}

INSTANTIATE_TEST_SUITE_P(Fixtures, MemoryEstimateFamilies,
                         ::testing::ValuesIn(test::kFixtureFamilies));

ModelConfig tiny_llama() {
  return load_model_config(test::fixture("hf-tiny/llama"));
}

TEST(MemoryEstimate, KvCacheIsKeysAndValuesOfEveryLayer) {
  const ModelConfig c = tiny_llama();  // 2 layers, 2 kv heads of 16
  EXPECT_EQ(kv_cache_bytes(c, 3, 100, 4), 2.0 * 2 * 3 * 100 * 2 * 16 * 4);
}

TEST(MemoryEstimate, AttentionMapsGrowWithTheSquareOfTheTokens) {
  const ModelConfig c = tiny_llama();
  ForwardShape shape;
  shape.tokens = 100000;
  shape.fused_attention = false;
  const double chunked = forward_bytes(c, shape, 4);
  shape.attention_maps = true;
  const double maps = forward_bytes(c, shape, 4);
  // At least the [H, T, T] float32 pattern; the chunked path only the scratch of [H, 256, T]
  // blocks (17 bytes a score, core/model/chunked_attention.cpp): 17 * 256 / (4 * 1e5) = 1/92
  // of the pattern's bytes, plus activations linear in T.
  EXPECT_GE(maps, 4.0 * c.n_heads * 1e10);
  EXPECT_LT(chunked, 4.0 * c.n_heads * 1e10 / 50);
  shape.attention_maps = false;
  shape.logit_positions = shape.tokens;
  EXPECT_GE(forward_bytes(c, shape, 4) - chunked, 1e5 * c.vocab_size * 4.0);
}

TEST(MemoryEstimate, FusedAttentionHasNoChunkScratchButAWindowsMask) {
  ModelConfig c = tiny_llama();
  c.sliding_window.reset();
  ForwardShape shape;
  shape.tokens = 100000;
  shape.fused_attention = false;
  const double chunked = forward_bytes(c, shape, 2);
  shape.fused_attention = true;
  const double fused = forward_bytes(c, shape, 2);
  // The chunked path's [H, 256, T] scratch at 17 bytes a score is gone; what the fused kernel
  // adds is linear in T: five [T, H, D] tensors in the compute dtype and the float32 lse.
  const double per_token_head = 5.0 * c.d_head * 2 + 4.0;
  EXPECT_DOUBLE_EQ(chunked - fused,
                   c.n_heads * 1e5 * (256.0 * 17.0 - per_token_head));
  shape.tokens = 200000;
  EXPECT_DOUBLE_EQ(forward_bytes(c, shape, 2), 2.0 * fused);
  // A sliding window passes a [T, T] boolean mask, made additive in the compute dtype.
  c.sliding_window = 4096;
  EXPECT_DOUBLE_EQ(forward_bytes(c, shape, 2) - 2.0 * fused, 4e10 * 3.0);
}

TEST(MemoryEstimate, AttentionStatsCountBlocksTopKAndTheChunk) {
  const ModelConfig c = tiny_llama();
  const double base = attention_stats_bytes(c, 1000, 8, 64, 256);
  // Top-k slots: index and probability per head, query and slot.
  EXPECT_EQ(attention_stats_bytes(c, 1000, 108, 64, 256) - base, c.n_heads * 1000.0 * 100 * 8);
  // Blocks of one token: [H, T, T] block masses.
  EXPECT_GE(attention_stats_bytes(c, 1000, 8, 1, 256), c.n_heads * 1e6 * 4);
  // Keys are never padded to whole blocks: a block far longer than the run costs one chunk of
  // the whole run (two float32 [group, T, T] buffers and the masks), not the block's length.
  const double group = static_cast<double>(c.n_heads / c.n_kv_heads);
  EXPECT_LT(attention_stats_bytes(c, 1000, 8, 1 << 30, 256),
            attention_stats_output_bytes(c, 1000, 8, 1 << 30) + 1e6 * (8.0 * group + 3.0) + 1.0);
}

TEST(MemoryEstimate, StatisticsInFlightToTheFileAreFourLayersUpTo4GiB) {
  const ModelConfig c = tiny_llama();
  // 5 rows of 4 bytes and k slots of 8 per head and query; [H, nb, nb] block mass.
  EXPECT_EQ(attention_stats_output_bytes(c, 1000, 8, 64),
            c.n_heads * (1000.0 * (20 + 64) + 16.0 * 16 * 4));
  EXPECT_EQ(stats_write_budget_bytes(1e6), 4e6);
  EXPECT_EQ(stats_write_budget_bytes(1.5e9), 4.0 * (1 << 30));
  EXPECT_EQ(stats_write_budget_bytes(5e9), 5e9);  // one layer always fits
}

TEST(MemoryEstimate, FormatsBytesInBinaryUnits) {
  EXPECT_EQ(format_bytes(512), "512 bytes");
  EXPECT_EQ(format_bytes(1536), "1.5 KiB");
  EXPECT_EQ(format_bytes(3.0 * (1 << 30)), "3.0 GiB");
  EXPECT_EQ(format_bytes(2e6 * 1099511627776.0), "2e+06 TiB");
}

TEST(MemoryEstimate, AvailableMemoryIsPositiveAndRefusalsNameIt) {
  const double available = available_memory_bytes(torch::kCPU);
  EXPECT_GT(available, 0.0);
  EXPECT_NO_THROW(check_memory_fits(1024, torch::kCPU, "a small thing"));
  const std::string message = test::error_message<InvalidInput>(
      [&] { check_memory_fits(available * 4, torch::kCPU, "a big thing", "make it smaller"); });
  EXPECT_THAT(message, HasSubstr("a big thing needs about "));
  EXPECT_THAT(message, HasSubstr("of memory available on cpu; make it smaller"));
}

TEST(MemoryEstimate, RandomWeightsOfAnAbsurdConfigAreRefusedBeforeAllocating) {
  ModelConfig c = tiny_llama();
  c.n_layers = int64_t{1} << 62;  // byte counts past int64: the estimate must not overflow
  const std::string message = test::error_message<InvalidInput>(
      [&] { random_model_weights(c, 0, torch::kFloat32, torch::kCPU); });
  EXPECT_THAT(message, HasSubstr("random weights for 4611686018427387904 layers"));
  EXPECT_THAT(message, HasSubstr("needs about"));
}

}  // namespace
}  // namespace headscope
