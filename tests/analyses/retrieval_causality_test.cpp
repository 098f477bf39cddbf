// The paper's causality finding on the shipped model (docs/ABLATION.md, measured 2026-11-29 with
// 24 samples): zeroing the 9 retrieval heads takes needle accuracy from 1.00 to 0.00, zeroing 4
// random heads outside them leaves it at 0.96-1.00. Thresholds sit between those numbers.
#include <gtest/gtest.h>

#include "analyses/ablation/evaluation_samples.h"
#include "analyses/ablation/head_ablation.h"
#include "analyses/ablation/head_selection.h"
#include "analyses/retrieval/retrieval_heads.h"
#include "core/model/transformer.h"
#include "core/tokenizer/tokenizer.h"

namespace headscope {
namespace {

const std::string kModel = std::string(HEADSCOPE_SOURCE_DIR) + "/zoo/models/needle-4x8";

TEST(RetrievalCausality, TopRetrievalHeadsCarryTheNeedleAndRandomOthersDoNot) {
  std::shared_ptr<const Transformer> model =
      Transformer::load(kModel, ModelLoadOptions().with_dtype(torch::kFloat32));
  const Tokenizer tokenizer = Tokenizer::from_tokenizer_json(kModel + "/tokenizer.json");
  const RetrievalHeadResult retrieval =
      detect_retrieval_heads(*model, tokenizer,
                             RetrievalOptions::for_model(model->config())
                                 .with_lengths({256})
                                 .with_depths({0.1, 0.5, 0.9}));
  const auto retrieval_heads = (retrieval.score > 0.1).sum().item<int64_t>();
  ASSERT_GE(retrieval_heads, 4);
  ASSERT_LE(retrieval_heads, 12);

  const AblationOptions options = AblationOptions().with_task("niah").with_length(256);
  const std::vector<TaskSample> samples =
      evaluation_samples(model->config(), "niah", 12, 256, /*seed=*/0);
  const std::vector<HeadRef> top = top_heads(retrieval.score, retrieval_heads);
  EXPECT_GE(score_ablated(model, {}, samples, options).accuracy, 0.95);
  EXPECT_LE(score_ablated(model, top, samples, options).accuracy, 0.25);
  for (uint64_t seed : {1, 2}) {
    const std::vector<HeadRef> others = random_heads(model->config(), 4, seed, top);
    EXPECT_GE(score_ablated(model, others, samples, options).accuracy, 0.8) << format_heads(others);
  }
}

}  // namespace
}  // namespace headscope
