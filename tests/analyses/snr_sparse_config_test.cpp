// Per-head block-sparse configs from a sparsity SNR file: the closed-form kept fraction against
// the masks the kernel reference builds, each head's choice on a hand-made file, and the errors.
#include <cmath>
#include <limits>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "analyses/retrieval/retrieval_file.h"
#include "analyses/sparse/snr_sparse_config.h"
#include "core/base/error.h"
#include "core/base/not_a_number.h"
#include "core/store/analysis_writer.h"
#include "core/store/snr_schema.h"
#include "kernels/sparse_attention.h"
#include "tests/support/error_message.h"
#include "tests/support/temp_dir_test.h"
#include "tests/support/tolerance.h"

namespace headscope {
namespace {

using ::testing::HasSubstr;
namespace tol = test::tol;

TEST(SnrSparseConfig, KeptFractionIsTheKernelMasksCount) {
  torch::manual_seed(0);
  const std::vector<SparseHeadConfig> heads = {SparseHeadConfig::full(),
                                               SparseHeadConfig::streaming(4, 16),
                                               SparseHeadConfig::streaming(0, 1),
                                               SparseHeadConfig::block_sparse(16, 1),
                                               SparseHeadConfig::block_sparse(32, 3),
                                               SparseHeadConfig::block_sparse(64, 0)};
  const auto H = static_cast<int64_t>(heads.size());
  for (int64_t T : {1, 37, 100, 257}) {
    auto q = torch::randn({1, H, T, 8}), k = torch::randn({1, H, T, 8});
    auto measured = sparse_kept_fraction(q, k, heads);
    for (int64_t h = 0; h < H; ++h) {
      // Both count the same integers and divide once: equal up to float64 rounding of the sums.
      EXPECT_TRUE(
          tol::within(head_kept_fraction(heads[static_cast<size_t>(h)], T),
                      measured[0][h].item<double>(), tol::gamma(T, tol::kFloat64),
                      "kept fraction of head " + std::to_string(h) + " at " + std::to_string(T)));
    }
  }
}

// L = 2, H = 3, block sizes 16, 32, 64 and k 1, 2, 4 at 1024 tokens: recall[l][h][b][k].
const std::vector<int64_t> kBlockSizes = {16, 32, 64}, kTopk = {1, 2, 4};
const std::vector<std::vector<std::vector<std::vector<double>>>> kRecall = {
    {
        // Reaches everywhere: the largest block, k = 1.
        {{1, 1, 1}, {1, 1, 1}, {1, 1, 1}},
        // Only with k = 2 and B <= 32 (0.9 at B = 32 is the target itself).
        {{0.5, 0.95, 1}, {0.5, 0.9, 1}, {0.5, 0.85, 0.88}},
        // B = 64 needs k = 4, over the budget; B = 32 never; B = 16 with k = 4.
        {{0.2, 0.6, 0.95}, {0.2, 0.5, 0.8}, {0.5, 0.8, 1}},
    },
    {
        // Not routed at B = 64 (NaN); B = 32 with k = 1.
        {{1, 1, 1}, {1, 1, 1}, {kNaN, kNaN, kNaN}},
        // Never reaches: streaming or full, by the retrieval score.
        {{0.2, 0.2, 0.2}, {0.2, 0.2, 0.2}, {0.2, 0.2, 0.2}},
        {{0.2, 0.2, 0.2}, {0.2, 0.2, 0.2}, {0.2, 0.2, 0.2}},
    }};

ModelSummary tiny_model() {
  ModelSummary model;
  model.family = "llama";
  model.n_layers = 2, model.n_heads = 3, model.n_kv_heads = 3;
  model.d_head = 4, model.d_model = 12, model.vocab_size = 16;
  model.config_json = "{}";
  return model;
}

void write_snr_file(const std::string& path) {
  std::vector<double> recall;
  for (const auto& layer : kRecall) {
    for (const auto& head : layer) {
      for (const auto& block : head) recall.insert(recall.end(), block.begin(), block.end());
    }
  }
  AnalysisWriter out =
      AnalysisWriter::begin({path, tiny_model(), OutputMode::kNew}, kSparsitySnrAnalysis);
  out.write_scale(kDimBlockSize, kBlockSizes);
  out.write_scale(kDimTopK, kTopk);
  out.write_f64("recall", {2, 3, 3, 3}, recall, {"layer", "head", kDimBlockSize, kDimTopK});
  out.set_attribute("", "length", int64_t{1024});
  out.commit();
}

void write_retrieval_scores(const std::string& path) {
  AnalysisWriter out = AnalysisWriter::begin(path, kRetrievalAnalysis);
  out.write_f64("score", {2, 3}, {0.9, 0.1, 0.0, 0.5, 0.0, 0.4}, {"layer", "head"});
  out.commit();
}

class SnrSparseConfigFile : public test::TempDirTest {};

TEST_F(SnrSparseConfigFile, ChoosesTheLargestBlockThatReachesTheTargetWithinTheBudget) {
  write_snr_file(path("snr.h5"));
  const SnrRouting routing = read_snr_routing(path("snr.h5"));
  EXPECT_EQ(routing.n_layers, 2);
  EXPECT_EQ(routing.n_heads, 3);
  EXPECT_EQ(routing.length, 1024);
  EXPECT_EQ(routing.block_sizes, kBlockSizes);
  EXPECT_EQ(routing.topk, kTopk);
  EXPECT_DOUBLE_EQ(routing.recall_at(0, 1, 1, 1), 0.9);
  EXPECT_FALSE(routing.retrieval_score.has_value());

  // At 1024 tokens block_sparse(64, 4) keeps 0.485, (64, 1) 0.180, (32, 2) 0.151, (16, 4) 0.137.
  const auto options = SnrConfigOptions().with_recall(0.9).with_budget(0.3);
  const SparseModelConfig c = config_from_snr(routing, options);
  const auto expect_block = [&](int64_t l, int64_t h, int64_t block, int64_t k) {
    const SparseHeadConfig& head = c.heads[static_cast<size_t>(l)][static_cast<size_t>(h)];
    EXPECT_EQ(head.kind, SparseKind::kBlockSparse) << l << "." << h;
    EXPECT_EQ(head.block_size, block) << l << "." << h;
    EXPECT_EQ(head.topk_blocks, k) << l << "." << h;
  };
  expect_block(0, 0, 64, 1);
  expect_block(0, 1, 32, 2);
  expect_block(0, 2, 16, 4);
  expect_block(1, 0, 32, 1);
  EXPECT_EQ(c.heads[1][1].kind, SparseKind::kFull);  // no retrieval score in the file
  EXPECT_EQ(c.heads[1][2].kind, SparseKind::kFull);
  EXPECT_EQ(c.parameters["block_sparse_heads"], 4);
  EXPECT_EQ(c.parameters["streaming_heads"], 0);
  EXPECT_EQ(c.parameters["length"], 1024);
  EXPECT_DOUBLE_EQ(c.parameters["head_recall"][0][1].get<double>(), 0.9);
  EXPECT_TRUE(c.parameters["head_recall"][1][1].is_null());
  EXPECT_DOUBLE_EQ(c.parameters["kept_fraction"].get<double>(), config_kept_fraction(c, 1024));
  EXPECT_LT(head_kept_fraction(SparseHeadConfig::block_sparse(16, 4), 1024), 0.3);
  EXPECT_GT(head_kept_fraction(SparseHeadConfig::block_sparse(64, 4), 1024), 0.3);

  // A budget none of the choices fits leaves every head full; a shorter evaluation length keeps
  // a larger fraction with the same blocks.
  const SparseModelConfig none = config_from_snr(routing, SnrConfigOptions().with_budget(0.01));
  EXPECT_EQ(none.sparse_head_fraction(), 0.0);
  const SparseModelConfig short_context = config_from_snr(
      routing, SnrConfigOptions().with_recall(0.9).with_budget(0.7).with_length(128));
  // 128 tokens are two blocks of 64, so (64, 1) keeps every entry; (32, 1) keeps 0.628.
  EXPECT_EQ(short_context.heads[0][0].block_size, 32);

  // With retrieval scores, the head that never retrieves (score 0) streams.
  write_retrieval_scores(path("snr.h5"));
  const SparseModelConfig scored = config_from_snr(
      read_snr_routing(path("snr.h5")), SnrConfigOptions(options).with_sink(2).with_window(32));
  EXPECT_EQ(scored.heads[1][1].kind, SparseKind::kStreaming);
  EXPECT_EQ(scored.heads[1][1].sink, 2);
  EXPECT_EQ(scored.heads[1][1].window, 32);
  EXPECT_EQ(scored.heads[1][2].kind, SparseKind::kFull);         // score 0.4: it retrieves
  EXPECT_EQ(scored.heads[0][2].kind, SparseKind::kBlockSparse);  // score 0 but routes well
  EXPECT_EQ(scored.parameters["streaming_heads"], 1);
}

TEST_F(SnrSparseConfigFile, BadInputNamesTheFileOrOption) {
  AnalysisWriter other =
      AnalysisWriter::begin({path("other.h5"), tiny_model(), OutputMode::kNew}, "head_importance");
  other.write_f64("importance", {2, 3}, std::vector<double>(6, 0.0), {"layer", "head"});
  other.commit();
  EXPECT_THAT(test::error_message<InvalidInput>([&] { read_snr_routing(path("other.h5")); }),
              HasSubstr("other.h5 has no /analyses/sparsity_snr"));
  EXPECT_THROW(read_snr_routing(path("missing.h5")), IoError);

  write_snr_file(path("snr.h5"));
  const SnrRouting routing = read_snr_routing(path("snr.h5"));
  for (double recall : {0.0, -0.5, 1.5, kNaN}) {
    EXPECT_THAT(test::error_message<InvalidInput>(
                    [&] { config_from_snr(routing, SnrConfigOptions().with_recall(recall)); }),
                HasSubstr("--recall: expected a fraction in (0, 1]"));
  }
  for (double budget : {0.0, 1.01}) {
    EXPECT_THAT(test::error_message<InvalidInput>(
                    [&] { config_from_snr(routing, SnrConfigOptions().with_budget(budget)); }),
                HasSubstr("--budget: expected a fraction in (0, 1]"));
  }
}

}  // namespace
}  // namespace headscope
