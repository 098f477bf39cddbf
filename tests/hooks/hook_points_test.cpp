// Hook points by id: the (layer, kind) ids the forward pass fires, their TransformerLens names,
// and HookedModel's hooks attached by name or id, resolved once when added.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "core/base/error.h"
#include "hooks/hooked_model.h"
#include "tests/support/fixtures.h"

namespace headscope {
namespace {

using ::testing::HasSubstr;

std::shared_ptr<Transformer> fixture_model(const std::string& family) {
  return Transformer::load(test::fixture("hf-tiny/" + family));
}

// Every point a model fires has a distinct index and the TransformerLens name of its kind, in
// forward order; points the family lacks are not listed and have no name.
TEST(HookPoints, NamesIndicesAndOrderPerFamily) {
  const std::vector<std::string> layer_suffixes = {
      "hook_resid_pre",   "ln1.hook_normalized", "attn.hook_q",         "attn.hook_k",
      "attn.hook_v",      "attn.hook_rot_q",     "attn.hook_rot_k",     "attn.hook_attn_scores",
      "attn.hook_pattern", "attn.hook_z",        "attn.hook_result",    "hook_attn_out",
      "hook_resid_mid",   "ln2.hook_normalized", "mlp.hook_pre",        "mlp.hook_post",
      "hook_mlp_out",     "hook_resid_post"};
  for (const std::string family : {"gpt2", "gpt_neox", "llama"}) {
    SCOPED_TRACE(family);
    const auto model = fixture_model(family);
    const ModelConfig& c = model->config();
    const HookNames& names = model->hook_names();
    std::vector<std::string> expected = {"hook_embed"};
    if (c.learned_positions) expected.push_back("hook_pos_embed");
    for (int64_t layer = 0; layer < c.n_layers; ++layer) {
      for (const auto& suffix : layer_suffixes) {
        const bool rotary_only = suffix.find("rot_") != std::string::npos;
        if (rotary_only && c.learned_positions) continue;
        if (suffix == "hook_resid_mid" && c.parallel_residual) continue;
        expected.push_back("blocks." + std::to_string(layer) + "." + suffix);
      }
    }
    expected.push_back("ln_final.hook_normalized");
    EXPECT_EQ(names.all(), expected);

    std::set<size_t> indices;
    for (const HookPoint& p : names.points()) {
      EXPECT_LT(names.index(p), names.size());
      indices.insert(names.index(p));
    }
    EXPECT_EQ(indices.size(), names.points().size());
    EXPECT_EQ(names.name({1, HookKind::kPattern}), "blocks.1.attn.hook_pattern");
    EXPECT_EQ(names.fires({0, HookKind::kRotQ}), !c.learned_positions);
    EXPECT_EQ(names.fires({HookPoint::kNoLayer, HookKind::kPosEmbed}), c.learned_positions);
    EXPECT_EQ(names.fires({0, HookKind::kResidMid}), !c.parallel_residual);
    // The q and k the scores come from: rotated where the model has rotary.
    EXPECT_EQ(names.name({0, names.scored_q()}),
              c.learned_positions ? "blocks.0.attn.hook_q" : "blocks.0.attn.hook_rot_q");
    EXPECT_EQ(names.name({0, names.scored_k()}),
              c.learned_positions ? "blocks.0.attn.hook_k" : "blocks.0.attn.hook_rot_k");
  }
}

// A hook added by id and one added by name at the same point see the same tensor and context,
// in the order they were added; removing one leaves the others in place, and a point without
// hooks is inactive again.
TEST(HookPoints, HooksByIdAndByNameFireInOrderAndDetach) {
  HookedModel hooked(fixture_model("llama"));
  const HookPoint z1{1, HookKind::kZ};
  EXPECT_FALSE(hooked.active(z1));
  std::vector<std::string> order;
  const auto record = [&order](std::string tag) {
    return [&order, tag](const torch::Tensor&, const HookContext& ctx) {
      EXPECT_EQ(ctx.name, "blocks.1.attn.hook_z");
      EXPECT_EQ(ctx.point.layer, 1);
      EXPECT_EQ(ctx.point.kind, HookKind::kZ);
      order.push_back(tag);
      return std::nullopt;
    };
  };
  const auto a = hooked.add_hook(z1, record("a"));
  const auto b = hooked.add_hook("blocks.1.attn.hook_z", record("b"));
  hooked.add_hook("blocks.1.*.hook_[z]", record("c"));
  EXPECT_TRUE(hooked.active(z1));
  EXPECT_FALSE(hooked.active({0, HookKind::kZ}));
  EXPECT_FALSE(hooked.active({1, HookKind::kPattern}));
  const auto tokens = torch::tensor({{1, 2, 3, 4}});
  torch::NoGradGuard no_grad;
  hooked.forward(tokens);
  EXPECT_EQ(order, (std::vector<std::string>{"a", "b", "c"}));

  order.clear();
  hooked.remove_hook(b);
  hooked.forward(tokens);
  EXPECT_EQ(order, (std::vector<std::string>{"a", "c"}));

  order.clear();
  hooked.remove_hook(a);
  hooked.add_hook(z1, record("d"));
  hooked.forward(tokens);
  EXPECT_EQ(order, (std::vector<std::string>{"c", "d"}));

  hooked.add_hook("blocks.0.attn.hook_z", record("e"));
  EXPECT_TRUE(hooked.active({0, HookKind::kZ}));
  hooked.clear_hooks();
  EXPECT_FALSE(hooked.active(z1));
  EXPECT_FALSE(hooked.active({0, HookKind::kZ}));
}

// A replacement of another shape is refused naming the hook as it was added and the point.
TEST(HookPoints, ReplacementOfAnotherShapeNamesHookAndPoint) {
  HookedModel hooked(fixture_model("llama"));
  hooked.add_hook("blocks.0.hook_resid_p*", [](const torch::Tensor& x, const HookContext&) {
    return std::optional<torch::Tensor>(x.sum(-1));
  });
  torch::NoGradGuard no_grad;
  try {
    hooked.forward(torch::tensor({{1, 2, 3}}));
    FAIL() << "expected an error";
  } catch (const InvalidInput& e) {
    EXPECT_THAT(e.what(), HasSubstr("hook 'blocks.0.hook_resid_p*' at blocks.0.hook_resid_pre "
                                    "returned a tensor of another shape"));
  }
}

// Token ids are checked on the host before they reach the embedding: the first id outside the
// vocabulary is named, whatever the integer dtype.
TEST(HookPoints, TokenIdsOutsideTheVocabularyAreRefused) {
  const auto model = fixture_model("llama");
  const int64_t vocab = model->config().vocab_size;
  torch::NoGradGuard no_grad;
  for (const auto dtype : {torch::kInt64, torch::kInt32}) {
    for (const int64_t bad : {vocab, int64_t{-1}}) {
      try {
        model->forward(torch::tensor({int64_t{0}, bad, int64_t{1}}, dtype).unsqueeze(0));
        ADD_FAILURE() << "no error for " << bad;
      } catch (const InvalidInput& e) {
        EXPECT_THAT(e.what(), HasSubstr("token id " + std::to_string(bad) +
                                        " is outside the vocabulary [0, " +
                                        std::to_string(vocab) + ")"));
      }
    }
  }
  EXPECT_NO_THROW(model->forward(torch::tensor({{int64_t{0}, vocab - 1}})));
}

}  // namespace
}  // namespace headscope
