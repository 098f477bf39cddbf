// `headscope demo`, the README's main job: on the shipped model it answers a needle correctly,
// records full maps and statistics, names layer-1 heads as the ones reading the needle, and
// draws the PNG grids.
#include <unistd.h>

#include <filesystem>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/recording_reader.h"
#include "tests/support/shell.h"

namespace headscope {
namespace {

using ::testing::HasSubstr;

TEST(Demo, AnswersTheNeedleRecordsAndDraws) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("headscope_demo_test_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  const auto result = test::shell(std::string(HEADSCOPE_CLI) + " demo --out " + dir.string());
  ASSERT_EQ(result.status, 0) << result.output;
  EXPECT_THAT(result.output, HasSubstr("-> correct"));
  EXPECT_THAT(result.output, HasSubstr("heads reading the needle's value"));

  const auto reader = RecordingReader::open((dir / "recording.h5").string());
  EXPECT_TRUE(reader.has(0, "blocks.3.attn.hook_pattern"));
  EXPECT_TRUE(reader.has(0, "attention_stats/entropy"));
  EXPECT_TRUE(reader.has(0, "logits"));
  EXPECT_TRUE(std::filesystem::exists(dir / "needle_attention.png"));
  EXPECT_TRUE(std::filesystem::exists(dir / "entropy.png"));
  std::filesystem::remove_all(dir);
}

TEST(Demo, RejectsAModelOutsideTheZoo) {
  const auto result = test::shell(std::string(HEADSCOPE_CLI) + " demo " + HEADSCOPE_FIXTURES +
                                  "/hf-tiny/llama --out /tmp/headscope_demo_reject");
  EXPECT_EQ(result.status, 1);
  EXPECT_THAT(result.output, HasSubstr("built-in vocabulary"));
}

}  // namespace
}  // namespace headscope
