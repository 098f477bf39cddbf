// Tensor parallelism (core/model/tensor_parallel.h) against one process. The launch test runs
// this suite's own binary under Debian's torchrun on 2 CPU processes over Gloo; each rank then
// runs TensorParallelRank.*: it loads the whole model and its share of it, runs both on the
// same tokens and compares the logits and the attention patterns of its heads.
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/base/error.h"
#include "core/model/shard_axes.h"
#include "dist/launch_env.h"
#include "dist/process_group.h"
#include "hooks/hooked_model.h"
#include "tests/support/attention_bounds.h"
#include "tests/support/fixtures.h"
#include "tests/support/forward_bounds.h"
#include "tests/support/temp_dir_test.h"
#include "tests/support/torchrun.h"

namespace headscope {
namespace {

namespace tol = test::tol;
using ::testing::HasSubstr;

// Set by the launch test for the ranks it starts.
constexpr const char* kRankVariable = "HEADSCOPE_TENSOR_PARALLEL_RANK_TEST";

// The families whose KV heads split over 2 ranks: grouped-query attention (llama, qwen2, qwen3:
// 4 heads on 2 KV heads, one KV head and its 2 query heads per rank), multi-head attention with
// biases everywhere (gpt2, fused q/k/v in Conv1D layout), the parallel residual (gpt_neox).
const std::vector<std::string> kSplitFamilies = {"llama", "qwen2", "qwen3", "gpt2", "gpt_neox"};

TEST(TensorParallel, KvHeadsMustDivideByTheRanks) {
  // mistral's fixture has one KV head for its 4 query heads.
  TensorParallel tp{0, 2, [](torch::Tensor&) {}};
  try {
    Transformer::load(test::fixture("hf-tiny/mistral"),
                      ModelLoadOptions().with_tensor_parallel(tp));
    FAIL() << "a model with 1 KV head loaded on 2 ranks";
  } catch (const InvalidInput& e) {
    EXPECT_THAT(e.what(), HasSubstr("tensor parallelism over 2 ranks: the mistral model's 1 KV "
                                    "heads (num_key_value_heads) do not split evenly"));
  }
}

TEST(TensorParallel, ShardsKeepQueryHeadsWithTheirKvHeads) {
  const ModelConfig c = load_model_config(test::fixture("hf-tiny/llama"));  // 4 heads, 2 KV
  const ModelShard second = model_shard(c, 1, 2);
  EXPECT_EQ(second.heads, 2);
  EXPECT_EQ(second.head_begin, 2);
  EXPECT_EQ(second.kv_heads, 1);
  EXPECT_EQ(second.kv_head_begin, 1);
  EXPECT_EQ(second.mlp_begin, c.d_mlp / 2);
  EXPECT_EQ(second.mlp_width, c.d_mlp / 2);
  // Uneven MLP widths differ by one and cover every column once.
  ModelConfig odd = c;
  odd.d_mlp = 7;
  odd.n_kv_heads = odd.n_heads = 3;
  int64_t next = 0;
  for (int64_t rank = 0; rank < 3; ++rank) {
    const ModelShard s = model_shard(odd, rank, 3);
    EXPECT_EQ(s.mlp_begin, next);
    EXPECT_TRUE(s.mlp_width == 2 || s.mlp_width == 3);
    EXPECT_EQ(s.head_begin, rank);
    next += s.mlp_width;
  }
  EXPECT_EQ(next, 7);
}

TEST(TensorParallel, LoadsOnlyTheRanksShare) {
  auto model = Transformer::load(
      test::fixture("hf-tiny/llama"),
      ModelLoadOptions().with_tensor_parallel(TensorParallel{1, 2, [](torch::Tensor&) {}}));
  const ModelConfig& c = model->config();
  const LayerWeights& w = model->weights().layers[0];
  EXPECT_EQ(w.wq.sizes(), (std::vector<int64_t>{2 * c.d_head, c.d_model}));
  EXPECT_EQ(w.wk.sizes(), (std::vector<int64_t>{c.d_head, c.d_model}));
  EXPECT_EQ(w.wo.sizes(), (std::vector<int64_t>{c.d_model, 2 * c.d_head}));
  EXPECT_EQ(w.w_up.sizes(), (std::vector<int64_t>{c.d_mlp / 2, c.d_model}));
  EXPECT_EQ(w.w_down.sizes(), (std::vector<int64_t>{c.d_model, c.d_mlp / 2}));
  // Rank 1 holds the second half: the rows of query heads 2 and 3.
  auto whole = Transformer::load(test::fixture("hf-tiny/llama"));
  EXPECT_TRUE(
      torch::equal(w.wq, whole->weights().layers[0].wq.narrow(0, 2 * c.d_head, 2 * c.d_head)));
  EXPECT_TRUE(torch::equal(w.w_down,
                           whole->weights().layers[0].w_down.narrow(1, c.d_mlp / 2, c.d_mlp / 2)));
}

class TensorParallelLaunch : public test::TempDirTest {
 protected:
  void SetUp() override {
    test::TempDirTest::SetUp();
    if (!test::has_program("torchrun")) {
      GTEST_SKIP() << "Debian's python3-torch (torchrun) is not installed (scripts/setup.sh)";
    }
    if (!distributed_available()) GTEST_SKIP() << "this build has no Gloo (libgloo-dev)";
  }
};

TEST_F(TensorParallelLaunch, TwoRanksOverGlooMatchOneProcess) {
  const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  const auto r =
      test::torchrun(2, self + " --gtest_filter='TensorParallelRank.*'", path("launch.sh"),
                     path("torchrun_logs"), std::string(kRankVariable) + "=1 OMP_NUM_THREADS=1");
  EXPECT_EQ(r.status, 0) << r.output;
  // Both ranks ran every rank test (a skip would pass too).
  EXPECT_THAT(r.output, HasSubstr("[default0]:[  PASSED  ] 3 tests")) << r.output;
  EXPECT_THAT(r.output, HasSubstr("[default1]:[  PASSED  ] 3 tests")) << r.output;
  EXPECT_THAT(r.output, ::testing::Not(HasSubstr("SKIPPED"))) << r.output;
}

class TensorParallelRank : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::getenv(kRankVariable) == nullptr) {
      GTEST_SKIP() << "a rank of TensorParallelLaunch.TwoRanksOverGlooMatchOneProcess";
    }
  }

  // The launch's group, joined once per process (every rank runs the same tests in order).
  static DistGroup& group() {
    static DistGroup joined = DistGroup::join(launch_env());
    return joined;
  }

  static std::shared_ptr<Transformer> load_share(const std::string& dir) {
    DistGroup& g = group();
    TensorParallel tp{g.rank(), g.world_size(), [&g](torch::Tensor& t) { g.all_reduce_sum(t); }};
    return Transformer::load(dir, ModelLoadOptions().with_tensor_parallel(tp));
  }
};

// Each rank's logits against the one-process forward it also runs. Splitting the output and
// down projections' sums over the ranks and adding the partial sums is another summation order
// of the same terms, which the first-order bound of a float32 forward pass covers
// (tests/support/forward_bounds.h: gamma_n of the chain's length, relative to the magnitude of
// the terms, growing with d_model, the heads' and the MLP's widths); both passes are within it
// of the exact values, so they agree within twice it. Patterns: a rank's heads against the same
// heads of the one-process pattern, within the bound of attention_bounds.h with q and k
// carrying the chain's error up to that block, as in the parity test.
TEST_F(TensorParallelRank, LogitsAndTheRanksHeadPatternsMatchOneProcess) {
  torch::NoGradGuard no_grad;
  for (const std::string& family : kSplitFamilies) {
    SCOPED_TRACE(family);
    const std::string dir = test::fixture("hf-tiny/" + family);
    auto whole = Transformer::load(dir);
    auto share = load_share(dir);
    const ModelConfig& c = whole->config();
    const ModelShard& s = share->shard();
    ASSERT_EQ(s.heads, c.n_heads / group().world_size());
    ASSERT_EQ(s.head_begin, group().rank() * s.heads);

    torch::manual_seed(7);  // the same tokens on every rank
    const auto tokens = torch::randint(c.vocab_size, {2, 12}, torch::kInt64);
    const int64_t seq = tokens.size(1);
    const bool rotary = !c.learned_positions;
    const std::string qk = rotary ? "attn.hook_rot_" : "attn.hook_";
    ActivationCache one, mine;
    auto expected =
        HookedModel(whole).run_with_cache(tokens,
                                          {"blocks.*.attn.hook_pattern", "blocks.*." + qk + "q",
                                           "blocks.*." + qk + "k", "ln_final.hook_normalized"},
                                          one);
    auto logits = HookedModel(share).run_with_cache(
        tokens, {"blocks.*.attn.hook_pattern", "blocks.*.mlp.hook_post"}, mine);

    const auto bound =
        tol::logits_bound(c, seq, one.at("ln_final.hook_normalized"), whole->weights().unembed);
    EXPECT_TRUE(tol::within(logits, expected, bound, "logits"));
    EXPECT_FALSE(tol::within(logits * 1.001, expected, bound, "logits, 0.1% scale"))
        << "the bound is too loose to see a 0.1% error";

    auto i = torch::arange(seq).unsqueeze(1), j = torch::arange(seq).unsqueeze(0);
    auto allowed = j <= i;
    if (c.sliding_window) allowed = allowed.logical_and(j > i - *c.sliding_window);
    for (int64_t l = 0; l < c.n_layers; ++l) {
      const std::string block = "blocks." + std::to_string(l) + ".";
      const auto b =
          tol::attention_bounds(one.at(block + qk + "q").transpose(1, 2),
                                one.at(block + qk + "k").transpose(1, 2), whole->attention_scale(),
                                allowed, tol::kFloat32, tol::forward_gamma(c, seq, l + 1, false));
      const auto& pattern = mine.at(block + "attn.hook_pattern");
      ASSERT_EQ(pattern.size(1), s.heads);
      EXPECT_TRUE(tol::within(
          pattern, one.at(block + "attn.hook_pattern").narrow(1, s.head_begin, s.heads),
          (2.0 * b.probs * b.rel).narrow(1, s.head_begin, s.heads), block + "attn.hook_pattern"));
      EXPECT_EQ(mine.at(block + "mlp.hook_post").size(-1), s.mlp_width);
    }
  }
}

// The ranks' MLP columns gathered whole to rank 0 (DistGroup::gather_cat along shard_axis)
// equal the one-process values: gpt_neox's block 0 MLP reads the embedding (parallel residual), so
// both sides compute the same products, each within gamma_{d_model+2} of |x| |W_up|ᵀ + |b| (the dot
// product and the bias).
TEST_F(TensorParallelRank, GatheredMlpColumnsEqualOneProcess) {
  torch::NoGradGuard no_grad;
  const std::string dir = test::fixture("hf-tiny/gpt_neox");
  auto whole = Transformer::load(dir);
  auto share = load_share(dir);
  const ModelConfig& c = whole->config();
  torch::manual_seed(5);
  const auto tokens = torch::randint(c.vocab_size, {2, 9}, torch::kInt64);
  ActivationCache one, mine;
  HookedModel(whole).run_with_cache(tokens,
                                    {"blocks.0.ln2.hook_normalized", "blocks.0.mlp.hook_pre"}, one,
                                    false, LogitPositions::kNone);
  HookedModel(share).run_with_cache(tokens, {"blocks.0.mlp.hook_pre"}, mine, false,
                                    LogitPositions::kNone);
  const auto axis = shard_axis(HookKind::kMlpPre);
  ASSERT_TRUE(axis.has_value());
  const auto gathered = group().gather_cat(mine.at("blocks.0.mlp.hook_pre"), *axis);
  if (!group().is_root()) {
    EXPECT_FALSE(gathered.defined()) << "only rank 0 receives a gather";
    return;
  }
  const auto& w = whole->weights().layers[0];
  auto terms = tol::abs_matmul(one.at("blocks.0.ln2.hook_normalized"), w.w_up.t());
  if (w.b_up.defined()) terms = terms + w.b_up.to(torch::kFloat64).abs();
  const auto bound = 2.0 * tol::gamma(c.d_model + 2, tol::kFloat32) * terms;
  EXPECT_TRUE(tol::within(gathered, one.at("blocks.0.mlp.hook_pre"), bound, "mlp.hook_pre"));
  // Whole points are not split.
  EXPECT_FALSE(shard_axis(HookKind::kMlpOut).has_value());
}

// Decoding with a KV cache of the rank's KV heads: every step's logits within the bound of a
// float32 forward pass over the positions so far (both sides are fed the one-process tokens).
TEST_F(TensorParallelRank, CachedDecodingMatchesOneProcess) {
  torch::NoGradGuard no_grad;
  const std::string dir = test::fixture("hf-tiny/qwen2");
  auto whole = Transformer::load(dir);
  auto share = load_share(dir);
  HookedModel one(whole), mine(share);
  torch::Tensor h;  // the one-process unembedding input of the last pass
  one.add_hook("ln_final.hook_normalized", [&h](const torch::Tensor& v, const HookContext&) {
    h = v;
    return std::nullopt;
  });
  torch::manual_seed(11);
  auto tokens = torch::randint(whole->config().vocab_size, {1, 6}, torch::kInt64);
  KVCache one_cache, my_cache;
  for (int step = 0; step < 5; ++step) {
    const auto expected = one.forward(tokens, &one_cache, LogitPositions::kLast);
    const auto logits = mine.forward(tokens, &my_cache, LogitPositions::kLast);
    const auto bound = tol::logits_bound(whole->config(), one_cache.length(),
                                         h.narrow(1, h.size(1) - 1, 1), whole->weights().unembed);
    EXPECT_TRUE(tol::within(logits, expected, bound, "step " + std::to_string(step)));
    tokens = expected.argmax(-1);
  }
  EXPECT_EQ(my_cache.keys[0].size(1), share->shard().kv_heads);
  EXPECT_EQ(my_cache.length(), one_cache.length());
}

}  // namespace
}  // namespace headscope
