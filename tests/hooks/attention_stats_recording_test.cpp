// Statistics recorded through the model's hooks (chunked, no T x T map) equal the same
// statistics of the exact softmax of the q and k the recorder saw, within float32 rounding
// (tests/support/attention_bounds.h), for every fixture family; written overlapped with the
// forward pass (the default), they are bitwise the synchronous recording.
#include <filesystem>

#include <gtest/gtest.h>

#include "core/store/recording_reader.h"
#include "hooks/activation_recorder.h"
#include "tests/support/attention_bounds.h"
#include "tests/support/fixtures.h"
#include "tests/support/reference.h"
#include "tests/support/stored_chunks.h"
#include "tests/support/temp_dir_test.h"

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

  const auto path = test::unique_temp_path("stats_" + GetParam()).string() + ".h5";
  AttentionStatsOptions stats;
  stats.sink = 2, stats.window = 5, stats.topk = 4, stats.block_size = 8, stats.chunk = 8;
  HookedModel hooked(model);
  // The q and k the recorder saw, read in the same pass: the recorder's fused attention rounds
  // unlike the model's own, so a second, plain pass would see other q and k from layer 1 on.
  ActivationCache cache;
  const bool rotary = !c.learned_positions;
  for (const char* name : {"q", "k"}) {
    hooked.add_hook(std::string("blocks.*.attn.hook_") + (rotary ? "rot_" : "") + name,
                    [&cache](const torch::Tensor& value, const HookContext& ctx) {
                      cache.put(ctx.name, value.detach());
                      return std::nullopt;
                    });
  }
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

  auto entropy = read(reader, "attention_stats/entropy");
  auto sink = read(reader, "attention_stats/sink_mass");
  auto local = read(reader, "attention_stats/local_mass");
  auto max_prob = read(reader, "attention_stats/max_prob");
  auto topk_prob = read(reader, "attention_stats/topk_prob");
  auto j = torch::arange(seq).view({1, 1, seq});
  auto i = torch::arange(seq).view({1, seq, 1});
  auto allowed = (j <= i).squeeze(0);
  if (c.sliding_window) allowed = allowed.logical_and((j > i - *c.sliding_window).squeeze(0));
  for (int64_t layer = 0; layer < c.n_layers; ++layer) {
    const auto hook = "blocks." + std::to_string(layer) + ".attn.hook_" + (rotary ? "rot_" : "");
    auto q = cache.at(hook + "q")[0].transpose(0, 1), k = cache.at(hook + "k")[0].transpose(0, 1);
    // Float32 statistics against the exact softmax of those q and k (float64: its own error is
    // this bound with u = 2^-53, 2^-29 of it, neglected).
    auto b =
        test::tol::attention_bounds(q, k, model->attention_scale(), allowed, test::tol::kFloat32);
    const auto& p = b.probs;
    auto plogp = torch::where(p > 0, p * p.log(), torch::zeros_like(p));
    const auto where = " layer " + std::to_string(layer);
    EXPECT_TRUE(test::tol::within(entropy[layer], -plogp.sum(-1), b.entropy(), "entropy" + where));
    EXPECT_TRUE(
        test::tol::within(sink[layer], (p * (j < 2)).sum(-1), b.mass(j < 2), "sink" + where));
    EXPECT_TRUE(test::tol::within(local[layer], (p * (j > i - 5)).sum(-1), b.mass(j > i - 5),
                                  "local" + where));
    EXPECT_TRUE(
        test::tol::within(max_prob[layer], std::get<0>(p.max(-1)), b.top(), "max_prob" + where));
    EXPECT_TRUE(test::tol::within(topk_prob[layer], std::get<0>(p.topk(4, -1)),
                                  b.top().unsqueeze(-1), "topk_prob" + where));
    char name[64];
    std::snprintf(name, sizeof name, "attention_stats/block_mass/layer_%02lld",
                  static_cast<long long>(layer));
    auto block = read(reader, name);
    auto expected = p.view({c.n_heads, 3, 8, 3, 8}).sum(-1).mean(2);
    EXPECT_TRUE(test::tol::within(block, expected, b.block_mass(8), "block_mass" + where));
  }
  std::filesystem::remove(path);
}

// Records the statistics of `tokens` twice, written synchronously and overlapped, and expects
// every statistics dataset's stored chunks to be the same bytes.
void expect_overlapped_equals_synchronous(const std::shared_ptr<Transformer>& model,
                                          const std::vector<int64_t>& tokens,
                                          const std::string& tag) {
  AttentionStatsOptions stats;
  stats.topk = 4, stats.block_size = 8, stats.chunk = 8;
  HookedModel hooked(model);
  auto record = [&](bool overlap) {
    const auto path =
        test::unique_temp_path("stats_" + tag + (overlap ? "_overlap" : "_sync")).string() + ".h5";
    auto writer = RecordingWriter::create(path, summarize(*model));
    auto run = writer.begin_run();
    record_activations(hooked, tokens,
                       RecordOptions()
                           .with_attention(AttentionRecording::kStats)
                           .with_stats(stats)
                           .with_overlap_writes(overlap),
                       run);
    run.commit();
    writer.finish();
    return path;
  };
  const std::string sync = record(false), overlapped = record(true);
  std::vector<std::string> names;
  for (const char* name : kAttentionStatsDatasets) names.push_back(attention_stats_path(name));
  for (int64_t layer = 0; layer < model->config().n_layers; ++layer) {
    names.push_back(block_mass_path(layer));
  }
  H5Id files[2];
  for (int i = 0; i < 2; ++i) {
    const std::string& path = i == 0 ? sync : overlapped;
    files[i] = h5_own(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Kind::kFile,
                      {path, "/"}, "open");
  }
  for (const std::string& name : names) {
    const std::string object = "/runs/0/" + name;
    std::vector<std::vector<uint8_t>> chunks[2];
    for (int i = 0; i < 2; ++i) {
      const H5Where where{i == 0 ? sync : overlapped, object};
      H5Id set = h5_own(H5Dopen2(files[i].get(), object.c_str(), H5P_DEFAULT), H5Kind::kDataset,
                        where, "open");
      chunks[i] = test::stored_chunks(set.get(), where);
    }
    EXPECT_FALSE(chunks[0].empty()) << tag << " " << object;
    EXPECT_EQ(chunks[0], chunks[1]) << tag << " " << object;
  }
  for (H5Id& file : files) file.reset();
  std::filesystem::remove(sync);
  std::filesystem::remove(overlapped);
}

std::vector<int64_t> reference_tokens(const std::string& dir) {
  auto ids = test::load_reference(dir + "/reference.safetensors").at("input_ids")[0];
  return {ids.data_ptr<int64_t>(), ids.data_ptr<int64_t>() + ids.numel()};
}

TEST_P(StatsRecording, OverlappedWritesEqualSynchronousOnesBitwise) {
  const auto dir = test::fixture("hf-tiny/" + GetParam());
  expect_overlapped_equals_synchronous(Transformer::load(dir), reference_tokens(dir), GetParam());
}

// On the GPU the overlapped path is another one: the statistics come from the fused attention's
// log-sum-exp (bfloat16 models), are copied to pinned memory without blocking the stream, and
// the compressing thread waits for the copy. The kernels are deterministic, so both recordings
// are still the same bytes.
TEST(StatsRecordingCuda, OverlappedWritesEqualSynchronousOnesBitwise_CUDA) {
  for (const std::string family : {"llama", "gpt2"}) {
    const auto dir = test::fixture("hf-tiny/" + family);
    auto model = Transformer::load(
        dir, ModelLoadOptions().with_device(torch::kCUDA).with_dtype(torch::kBFloat16));
    expect_overlapped_equals_synchronous(model, reference_tokens(dir), family + "_cuda");
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, StatsRecording, ::testing::ValuesIn(test::kFixtureFamilies));

}  // namespace
}  // namespace headscope
