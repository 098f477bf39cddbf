#include <cmath>
#include <set>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "analyses/ablation/head_selection.h"
#include "core/base/error.h"
#include "tests/support/error_message.h"

namespace headscope {
namespace {

ModelConfig shape(int64_t layers, int64_t heads) {
  ModelConfig c;
  c.n_layers = layers;
  c.n_heads = heads;
  return c;
}

TEST(AblationSelection, ParsesHeadList) {
  const auto heads = parse_heads("3.1,0.7,2.0", shape(4, 8), "--heads");
  ASSERT_EQ(heads.size(), 3u);
  EXPECT_EQ(heads[0].layer, 3);
  EXPECT_EQ(heads[0].head, 1);
  EXPECT_EQ(heads[1].layer, 0);
  EXPECT_EQ(heads[1].head, 7);
  EXPECT_EQ(format_heads(heads), "3.1,0.7,2.0");
}

TEST(AblationSelection, RejectsBadHeadLists) {
  const ModelConfig c = shape(4, 8);
  for (const std::string bad : {"", "3", "3.", ".1", "3.1,", "a.b", "3.-1", "3.1.2", "3,1"}) {
    const std::string message =
        test::error_message<InvalidInput>([&] { parse_heads(bad, c, "--heads"); });
    EXPECT_NE(message.find("--heads"), std::string::npos) << bad << ": " << message;
  }
  const std::string range =
      test::error_message<InvalidInput>([&] { parse_heads("4.0", c, "--heads"); });
  EXPECT_NE(range.find("4 layers x 8 heads"), std::string::npos) << range;
  EXPECT_NE(test::error_message<InvalidInput>([&] {
              parse_heads("1.8", c, "--heads");
            }).find("does not exist"),
            std::string::npos);
  EXPECT_NE(test::error_message<InvalidInput>([&] {
              parse_heads("1.2,1.2", c, "--heads");
            }).find("twice"),
            std::string::npos);
}

TEST(AblationSelection, TopHeadsByScoreWithTiesInIndexOrder) {
  const auto scores = torch::tensor({{0.1, 0.9, 0.3}, {0.9, std::nan(""), 0.5}}, torch::kFloat64);
  const auto top = top_heads(scores, 4);
  ASSERT_EQ(top.size(), 4u);
  EXPECT_EQ(format_heads(top), "0.1,1.0,1.2,0.2");
  EXPECT_EQ(format_heads({top_heads(scores, 6).back()}), "1.1");  // NaN last
  EXPECT_TRUE(top_heads(scores, 0).empty());
  const std::string message = test::error_message<InvalidInput>([&] { top_heads(scores, 7); });
  EXPECT_NE(message.find("6 heads"), std::string::npos) << message;
}

TEST(AblationSelection, RandomHeadsAreSeededDistinctAndExcludeTheTop) {
  const ModelConfig c = shape(4, 8);
  const std::vector<HeadRef> excluded = {{0, 0}, {3, 7}, {2, 2}};
  const auto a = random_heads(c, 10, 42, excluded);
  EXPECT_EQ(format_heads(a), format_heads(random_heads(c, 10, 42, excluded)));
  EXPECT_NE(format_heads(a), format_heads(random_heads(c, 10, 43, excluded)));
  std::set<std::pair<int64_t, int64_t>> seen;
  for (const HeadRef& h : a) {
    EXPECT_TRUE(seen.insert({h.layer, h.head}).second);
    for (const HeadRef& x : excluded) EXPECT_FALSE(h.layer == x.layer && h.head == x.head);
  }
  // Every remaining head, in some order.
  EXPECT_EQ(random_heads(c, 29, 1, excluded).size(), 29u);
  const std::string message =
      test::error_message<InvalidInput>([&] { random_heads(c, 30, 1, excluded); });
  EXPECT_NE(message.find("only 29"), std::string::npos) << message;
}

TEST(AblationSelection, RandomHeadsCoverEveryHeadAcrossSeeds) {
  const ModelConfig c = shape(2, 4);
  std::set<std::pair<int64_t, int64_t>> drawn;
  for (uint64_t seed = 0; seed < 64; ++seed) {
    const HeadRef h = random_heads(c, 1, seed)[0];
    drawn.insert({h.layer, h.head});
  }
  EXPECT_EQ(drawn.size(), 8u);
}

}  // namespace
}  // namespace headscope
