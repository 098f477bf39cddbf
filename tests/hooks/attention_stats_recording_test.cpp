// Statistics recorded through the model's hooks (chunked, no T x T map) equal the same
// statistics computed from the full hook_pattern of the same run, for every fixture family.
#include <filesystem>

#include <gtest/gtest.h>

#include "core/recording_reader.h"
#include "hooks/activation_recorder.h"
#include "tests/support/fixtures.h"
#include "tests/support/reference.h"

namespace headscope {
namespace {

torch::Tensor read(const RecordingReader& r, const std::string& name) {
  auto shape = r.shape(0, name);
  auto values = r.read_f32(0, name);
  return torch::tensor(values).view(shape);
}

class StatsRecording : public ::testing::TestWithParam<std::string> {};

TEST_P(StatsRecording, EqualsStatisticsOfTheFullPattern) {
  const auto dir = test::fixture("hf-tiny/" + GetParam());
  auto model = Transformer::load(dir);
  const auto& c = model->config();
  auto ids = test::load_reference(dir + "/reference.safetensors").at("input_ids")[0];
  std::vector<int64_t> tokens(ids.data_ptr<int64_t>(), ids.data_ptr<int64_t>() + ids.numel());
  const int64_t seq = static_cast<int64_t>(tokens.size());

  const auto path = (std::filesystem::temp_directory_path() /
                     ("headscope_stats_" + GetParam() + ".h5")).string();
  AttentionStatsOptions stats;
  stats.sink = 2, stats.window = 5, stats.topk = 4, stats.block_size = 8, stats.chunk = 8;
  HookedModel hooked(model);
  {
    auto writer = RecordingWriter::create(path, summarize(*model));
    auto run = writer.begin_run();
    run.write_tokens({tokens.begin(), tokens.end()});
    record_activations(hooked, tokens,
                       RecordOptions().with_attention(AttentionRecording::kStats).with_stats(stats),
                       run);
    run.commit();
  }
  auto reader = RecordingReader::open(path);
  EXPECT_EQ(reader.int_attribute(0, "attention_stats", "block_size"), 8);
  EXPECT_FALSE(reader.has(0, "blocks.0.attn.hook_pattern"));

  ActivationCache cache;
  torch::NoGradGuard no_grad;
  hooked.run_with_cache(ids.unsqueeze(0), {"blocks.*.attn.hook_pattern"}, cache);
  auto entropy = read(reader, "attention_stats/entropy");
  auto sink = read(reader, "attention_stats/sink_mass");
  auto local = read(reader, "attention_stats/local_mass");
  auto max_prob = read(reader, "attention_stats/max_prob");
  auto topk_prob = read(reader, "attention_stats/topk_prob");
  auto j = torch::arange(seq).view({1, 1, seq});
  auto i = torch::arange(seq).view({1, seq, 1});
  for (int64_t layer = 0; layer < c.n_layers; ++layer) {
    auto p = cache.at("blocks." + std::to_string(layer) + ".attn.hook_pattern")[0].to(torch::kFloat64);
    auto plogp = torch::where(p > 0, p * p.log(), torch::zeros_like(p));
    EXPECT_LT(test::max_abs_diff(entropy[layer], -plogp.sum(-1)), 1e-4) << layer;
    EXPECT_LT(test::max_abs_diff(sink[layer], (p * (j < 2)).sum(-1)), 1e-5);
    EXPECT_LT(test::max_abs_diff(local[layer], (p * (j > i - 5)).sum(-1)), 1e-5);
    EXPECT_LT(test::max_abs_diff(max_prob[layer], std::get<0>(p.max(-1))), 1e-5);
    EXPECT_LT(test::max_abs_diff(topk_prob[layer], std::get<0>(p.topk(4, -1))), 1e-5);
    char name[64];
    std::snprintf(name, sizeof name, "attention_stats/block_mass/layer_%02lld",
                  static_cast<long long>(layer));
    auto block = read(reader, name);
    auto expected = p.view({c.n_heads, 3, 8, 3, 8}).sum(-1).mean(2);
    EXPECT_LT(test::max_abs_diff(block, expected), 1e-5);
  }
  std::filesystem::remove(path);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, StatsRecording,
                         ::testing::Values("gpt2", "gpt_neox", "llama", "qwen2", "qwen3",
                                           "mistral"));

}  // namespace
}  // namespace headscope
