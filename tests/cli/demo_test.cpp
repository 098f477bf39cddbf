// `headscope demo`, the README's main job: on the shipped model it answers a needle correctly,
// records full maps and statistics, finds retrieval heads, ablates them, writes and evaluates a
// sparse config, finds the IOI and colors circuits by EAP-IG with their overlap, and draws the
// PNG grids.
#include <filesystem>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/store/recording_reader.h"
#include "tests/support/shell.h"
#include "tests/support/temp_dir_test.h"

namespace headscope {
namespace {

using ::testing::HasSubstr;

TEST(Demo, AnswersTheNeedleRecordsAndDraws) {
  const auto dir = test::unique_temp_path("demo_test");
  std::filesystem::remove_all(dir);
  const auto result = test::shell(std::string(HEADSCOPE_CLI) + " demo --out " + dir.string());
  ASSERT_EQ(result.status, 0) << result.output;
  EXPECT_THAT(result.output, HasSubstr("-> correct"));
  EXPECT_THAT(result.output, HasSubstr("heads reading the needle's value"));
  EXPECT_THAT(result.output, HasSubstr("samples answered"));
  EXPECT_THAT(result.output, HasSubstr("retrieval@0.5"));
  EXPECT_THAT(result.output, HasSubstr("circuits: EAP-IG (5 steps"));
  EXPECT_THAT(result.output, HasSubstr("edges keep "));
  EXPECT_THAT(result.output, HasSubstr("IOI vs colors: "));
  EXPECT_THAT(result.output, HasSubstr("heads shared (Jaccard"));
  EXPECT_THAT(result.output, HasSubstr("hypergeometric p = "));

  const auto reader = RecordingReader::open((dir / "recording.h5").string());
  EXPECT_TRUE(reader.has(0, "blocks.3.attn.hook_pattern"));
  EXPECT_TRUE(reader.has(0, "attention_stats/entropy"));
  EXPECT_TRUE(reader.has(0, "logits"));
  EXPECT_EQ(test::shell("/usr/bin/python3 -c \"import h5py; f = h5py.File('" +
                        (dir / "recording.h5").string() +
                        "'); assert f['analyses/retrieval_heads/score'].shape == (4, 8); "
                        "assert sorted(f['analyses/circuits']) == ['colors', 'ioi']; "
                        "c = f['analyses/circuits/ioi']; assert c['selected'][:].sum() == 8; "
                        "assert c.attrs['method'] == 'eap-ig'; "
                        "assert 0 < c.attrs['faithfulness'] <= 1.5; "
                        "assert c['edges/score'].shape == (1519,)\"")
                .status,
            0);
  EXPECT_TRUE(std::filesystem::exists(dir / "needle_attention.png"));
  EXPECT_TRUE(std::filesystem::exists(dir / "retrieval_heads.png"));
  EXPECT_TRUE(std::filesystem::exists(dir / "sparse" / "sparse_config.json"));
  EXPECT_TRUE(std::filesystem::exists(dir / "entropy.png"));
  EXPECT_TRUE(std::filesystem::exists(dir / "circuits.png"));
  std::filesystem::remove_all(dir);
}

TEST(Demo, RejectsAModelOutsideTheZoo) {
  const auto dir = test::unique_temp_path("demo_reject");
  const auto result = test::shell(std::string(HEADSCOPE_CLI) + " demo " + HEADSCOPE_FIXTURES +
                                  "/hf-tiny/llama --out " + dir.string());
  EXPECT_EQ(result.status, 1);
  EXPECT_THAT(result.output, HasSubstr("built-in vocabulary"));
  EXPECT_FALSE(std::filesystem::exists(dir));
}

}  // namespace
}  // namespace headscope
