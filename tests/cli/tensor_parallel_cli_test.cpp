// `record --tensor-parallel` under Debian's torchrun, 2 CPU processes over Gloo: each rank
// holds half the heads and MLP columns, and rank 0's file holds what one process records, within
// the float32 bounds of the parity tests (tests/support/forward_bounds.h, attention_bounds.h):
// maps, hooks and logits, and attention statistics.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/model/transformer.h"
#include "core/store/recording_reader.h"
#include "tests/support/attention_bounds.h"
#include "tests/support/cli_run.h"
#include "tests/support/fixtures.h"
#include "tests/support/forward_bounds.h"
#include "tests/support/temp_dir_test.h"
#include "tests/support/torchrun.h"

namespace headscope {
namespace {

namespace tol = test::tol;
using ::testing::HasSubstr;

torch::Tensor read(const RecordingReader& file, int64_t run, const std::string& name) {
  auto values = file.read_f32(run, name);
  return torch::tensor(values).view(file.shape(run, name));
}

class TensorParallelCli : public test::TempDirTest {
 protected:
  void SetUp() override {
    test::TempDirTest::SetUp();
    if (!test::has_program("torchrun")) {
      GTEST_SKIP() << "Debian's python3-torch (torchrun) is not installed (scripts/setup.sh)";
    }
  }

  // Two runs of unequal length.
  std::string record(const std::string& family, const std::string& hooks, const std::string& out) {
    const std::string runs = path("runs.txt");
    std::ofstream(runs) << "1,5,9,13,17,21,25,29,33\n2,4,6,8,10,12,14,16,18,20,22,24,26,28\n";
    return "record " + test::fixture("hf-tiny/" + family) + " --tokens-file " + runs + " --out " +
           out + " --attention full --hooks " + hooks + " --save-logits --quiet";
  }
};

// Patterns (split on their head axis), z (split on its head axis in [T, H, D]) and logits of
// the 2-rank file against one process's. The one process also records what the bounds are
// made of: the scored q and k, v and the unembedding's input. A pattern errs as in the parity
// test; z = Σ_j p_j v_j by the P·V bound of attention_bounds.h plus the chain's error already
// in v (forward_gamma of the block) over Σ_j p_j |v_j|; both sides are float32 passes, so twice
// each.
TEST_F(TensorParallelCli, RecordOnTwoRanksMatchesOneProcess) {
  for (const std::string family : {"llama", "gpt2"}) {
    SCOPED_TRACE(family);
    auto model = Transformer::load(test::fixture("hf-tiny/" + family));
    const ModelConfig& c = model->config();
    const std::string qk = c.learned_positions ? "attn.hook_" : "attn.hook_rot_";
    const std::string single = path(family + "_one.h5"), split = path(family + "_tp.h5");
    auto r = test::shell("OMP_NUM_THREADS=1 " + std::string(HEADSCOPE_CLI) + " " +
                         record(family,
                                "blocks.*.attn.hook_z,blocks.*." + qk + "q,blocks.*." + qk +
                                    "k,blocks.*.attn.hook_v,ln_final.hook_normalized",
                                single));
    ASSERT_EQ(r.status, 0) << r.output;
    r = test::torchrun(2,
                       std::string(HEADSCOPE_CLI) + " " +
                           record(family, "blocks.*.attn.hook_z", split) +
                           " --tensor-parallel --threads 1",
                       path("launch.sh"), path("torchrun_logs"));
    ASSERT_EQ(r.status, 0) << r.output;

    const auto one = RecordingReader::open(single);
    const auto two = RecordingReader::open(split);
    ASSERT_EQ(two.run_count(), 2);
    EXPECT_EQ(two.model().n_heads, c.n_heads);
    for (int64_t run = 0; run < 2; ++run) {
      SCOPED_TRACE("run " + std::to_string(run));
      EXPECT_EQ(two.read_tokens(run), one.read_tokens(run));
      std::vector<std::string> expected = {"logits", "token_text", "tokens"};
      for (int64_t l = 0; l < c.n_layers; ++l) {
        for (const char* hook : {"attn.hook_pattern", "attn.hook_z"}) {
          expected.push_back("blocks." + std::to_string(l) + "." + hook);
        }
      }
      std::sort(expected.begin(), expected.end());
      EXPECT_EQ(two.datasets(run), expected);

      const int64_t seq = static_cast<int64_t>(one.read_tokens(run).size());
      EXPECT_TRUE(tol::within(read(two, run, "logits"), read(one, run, "logits"),
                              tol::logits_bound(c, seq, read(one, run, "ln_final.hook_normalized"),
                                                model->weights().unembed),
                              "logits"));
      auto i = torch::arange(seq).unsqueeze(1), j = torch::arange(seq).unsqueeze(0);
      const auto allowed = j <= i;
      for (int64_t l = 0; l < c.n_layers; ++l) {
        const std::string block = "blocks." + std::to_string(l) + ".";
        const double chain = tol::forward_gamma(c, seq, l + 1, false);
        const auto b =
            tol::attention_bounds(read(one, run, block + qk + "q").transpose(0, 1),
                                  read(one, run, block + qk + "k").transpose(0, 1),
                                  model->attention_scale(), allowed, tol::kFloat32, chain);
        EXPECT_TRUE(tol::within(read(two, run, block + "attn.hook_pattern"),
                                read(one, run, block + "attn.hook_pattern"), 2.0 * b.probs * b.rel,
                                block + "attn.hook_pattern"));
        const auto v = read(one, run, block + "attn.hook_v")
                           .transpose(0, 1)
                           .repeat_interleave(c.kv_group_size(), 0);  // [H, T, D]
        const auto z_bound =
            2.0 * (b.attend(v) + chain * torch::matmul(b.probs, v.to(torch::kFloat64).abs()));
        EXPECT_TRUE(tol::within(read(two, run, block + "attn.hook_z"),
                                read(one, run, block + "attn.hook_z"), z_bound.transpose(0, 1),
                                block + "attn.hook_z"));
      }
    }
  }
}

torch::Tensor read_i32(const RecordingReader& file, int64_t run, const std::string& name) {
  auto values = file.read_i32(run, name);
  return torch::tensor(values).view(file.shape(run, name));
}

// The exact probabilities at `index` ([H, T, k] key indices; -1, an empty slot, gives 0).
torch::Tensor probs_at(const torch::Tensor& probs, const torch::Tensor& index) {
  const auto empty = index < 0;
  const auto at = probs.gather(-1, index.clamp_min(0).to(torch::kInt64));
  return at.masked_fill(empty, 0.0);
}

// Attention statistics of split heads: each rank computes its heads' and rank 0 writes them all.
// Both files hold the scored q and k (the 2-rank one gathered whole), which give the bounds:
// each statistic of attention_bounds.h with the chain's error already in q and k, twice (two
// float32 passes). argmax and top-k indices may pick another key only where probabilities lie
// within those bounds, so the exact probability at the 2-rank file's keys is compared.
TEST_F(TensorParallelCli, StatisticsOnTwoRanksMatchOneProcess) {
  const int64_t sink = 2, window = 5, topk = 3, block = 4;
  for (const std::string family : {"llama", "gpt2"}) {
    SCOPED_TRACE(family);
    auto model = Transformer::load(test::fixture("hf-tiny/" + family));
    const ModelConfig& c = model->config();
    const std::string qk = c.learned_positions ? "attn.hook_" : "attn.hook_rot_";
    const std::string runs = path("runs.txt");
    std::ofstream(runs) << "1,5,9,13,17,21,25,29,33\n2,4,6,8,10,12,14,16,18,20,22,24,26,28\n";
    const auto command = [&](const std::string& out) {
      return std::string(HEADSCOPE_CLI) + " record " + test::fixture("hf-tiny/" + family) +
             " --tokens-file " + runs + " --out " + out + " --attention stats --hooks blocks.*." +
             qk + "q,blocks.*." + qk + "k --sink " + std::to_string(sink) + " --window " +
             std::to_string(window) + " --topk " + std::to_string(topk) + " --stats-block-size " +
             std::to_string(block) + " --quiet";
    };
    const std::string single = path(family + "_one.h5"), split = path(family + "_tp.h5");
    auto r = test::shell("OMP_NUM_THREADS=1 " + command(single));
    ASSERT_EQ(r.status, 0) << r.output;
    r = test::torchrun(2, command(split) + " --tensor-parallel --threads 1", path("launch.sh"),
                       path("torchrun_logs"));
    ASSERT_EQ(r.status, 0) << r.output;

    const auto one = RecordingReader::open(single);
    const auto two = RecordingReader::open(split);
    ASSERT_EQ(two.run_count(), 2);
    for (int64_t run = 0; run < 2; ++run) {
      SCOPED_TRACE("run " + std::to_string(run));
      EXPECT_EQ(two.read_tokens(run), one.read_tokens(run));
      ASSERT_EQ(two.datasets(run), one.datasets(run));
      for (const std::string& name : one.datasets(run)) {
        EXPECT_EQ(two.shape(run, name), one.shape(run, name)) << name;
      }
      for (const char* attribute : {"block_size", "sink", "window", "k", "sliding_window"}) {
        EXPECT_EQ(two.int_attribute(run, "attention_stats", attribute),
                  one.int_attribute(run, "attention_stats", attribute))
            << attribute;
      }

      const int64_t seq = static_cast<int64_t>(one.read_tokens(run).size());
      auto i = torch::arange(seq).unsqueeze(1), j = torch::arange(seq).unsqueeze(0);
      auto allowed = j <= i;
      if (c.sliding_window) allowed = allowed.logical_and(j > i - *c.sliding_window);
      const auto stat = [&](const RecordingReader& file, const char* name) {
        return read(file, run, std::string("attention_stats/") + name);
      };
      for (int64_t l = 0; l < c.n_layers; ++l) {
        SCOPED_TRACE("layer " + std::to_string(l));
        const std::string hook = "blocks." + std::to_string(l) + "." + qk;
        const auto b = tol::attention_bounds(read(one, run, hook + "q").transpose(0, 1),
                                             read(one, run, hook + "k").transpose(0, 1),
                                             model->attention_scale(), allowed, tol::kFloat32,
                                             tol::forward_gamma(c, seq, l + 1, false));
        const auto both = [&](const char* name, const torch::Tensor& bound) {
          EXPECT_TRUE(tol::within(stat(two, name)[l], stat(one, name)[l], 2.0 * bound, name));
        };
        both("entropy", b.entropy());
        both("sink_mass", b.mass(j < sink));
        both("local_mass", b.mass(j > i - window));
        both("max_prob", b.top());
        both("topk_prob", b.top().unsqueeze(-1));
        char name[64];
        std::snprintf(name, sizeof name, "attention_stats/block_mass/layer_%02lld",
                      static_cast<long long>(l));
        EXPECT_TRUE(tol::within(read(two, run, name), read(one, run, name),
                                2.0 * b.block_mass(block), name));

        const auto argmax = read_i32(two, run, "attention_stats/argmax")[l];
        EXPECT_TRUE(tol::within(probs_at(b.probs, argmax.unsqueeze(-1)).squeeze(-1),
                                std::get<0>(b.probs.max(-1)), 2.0 * b.top(), "p at argmax"));
        const auto index = read_i32(two, run, "attention_stats/topk_index")[l];
        EXPECT_TRUE(
            torch::equal(index < 0, read_i32(one, run, "attention_stats/topk_index")[l] < 0))
            << "empty top-k slots";
        EXPECT_TRUE(tol::within(probs_at(b.probs, index), std::get<0>(b.probs.topk(topk, -1)),
                                2.0 * b.top().unsqueeze(-1), "p at topk_index"));
      }
    }
  }
}

TEST_F(TensorParallelCli, RefusesRandomWeightsAndKvHeadsThatDoNotSplit) {
  const std::string out = path("x.h5");
  auto r = test::run_cli("record " + test::fixture("hf-tiny/llama") + " --tokens 1,2,3 --out " +
                         out + " --random-weights --tensor-parallel");
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.output, HasSubstr("headscope: error: --tensor-parallel: --random-weights builds "
                                  "the whole model"));
  // mistral's fixture has one KV head: two ranks cannot split it.
  r = test::torchrun(2,
                     std::string(HEADSCOPE_CLI) + " record " + test::fixture("hf-tiny/mistral") +
                         " --tokens 1,2,3 --out " + out + " --tensor-parallel --quiet",
                     path("launch.sh"), path("torchrun_logs"));
  EXPECT_NE(r.status, 0);
  EXPECT_THAT(r.output, HasSubstr("headscope: error: tensor parallelism over 2 ranks: the "
                                  "mistral model's 1 KV heads (num_key_value_heads)"));
  EXPECT_FALSE(std::filesystem::exists(out));
}

}  // namespace
}  // namespace headscope
