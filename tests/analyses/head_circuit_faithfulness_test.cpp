// The faithfulness of a head circuit on EAP's graph against two other code paths: a circuit of
// every head but h is h's output corrupted everywhere downstream, which is activation patching
// of h's hook_z in the noise direction (a batched sweep of ordinary forward passes with hooks);
// the circuit of every head is the clean run.
#include <cmath>
#include <set>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "analyses/circuits/activation_patching.h"
#include "analyses/circuits/head_circuit_faithfulness.h"
#include "analyses/circuits/task_pairs.h"
#include "tests/support/fixtures.h"
#include "tests/support/forward_bounds.h"

namespace headscope {
namespace {

// The largest float32 bound over the pairs on a logit difference of the clean run: two float32
// computations of it agree within that (tests/support/forward_bounds.h).
double logit_diff_bound(HookedModel& model, const std::vector<PatchingPair>& pairs) {
  torch::NoGradGuard no_grad;
  double worst = 0.0;
  for (const PatchingPair& p : pairs) {
    ActivationCache cache;
    const auto ids =
        torch::tensor(std::vector<int64_t>(p.clean.begin(), p.clean.end())).view({1, -1});
    model.run_with_cache(ids, {"ln_final.hook_normalized"}, cache);
    const torch::Tensor h = cache.at("ln_final.hook_normalized")[0][p.position].view({1, -1});
    const torch::Tensor b =
        test::tol::logits_bound(model.model().config(), static_cast<int64_t>(p.clean.size()), h,
                                model.model().weights().unembed)
            .view({-1});
    worst = std::max(worst, b[p.answer].item<double>() + b[p.distractor].item<double>());
  }
  return worst;
}

TEST(HeadCircuitFaithfulness, RankingPutsTheRemovedHeadsEdgesLast) {
  const auto model = Transformer::load(test::fixture("zoo/ioi-2x4"));
  const EapGraph graph(model->config());
  std::vector<uint8_t> selected(static_cast<size_t>(graph.layers() * graph.heads()), 1);
  selected[1] = 0;  // L0 H1
  int64_t kept = 0;
  const std::vector<int64_t> ranking = head_circuit_ranking(graph, selected, &kept);
  ASSERT_EQ(static_cast<int64_t>(ranking.size()), graph.edge_count());
  EXPECT_EQ(std::set<int64_t>(ranking.begin(), ranking.end()).size(), ranking.size());
  const int64_t removed_sender = graph.head_sender(0, 1);
  int64_t out_of_removed = 0;
  for (const EapEdge& e : graph.edges()) out_of_removed += e.sender == removed_sender ? 1 : 0;
  EXPECT_GT(out_of_removed, 0);
  EXPECT_EQ(kept, graph.edge_count() - out_of_removed);
  for (int64_t i = 0; i < graph.edge_count(); ++i) {
    const int64_t sender =
        graph.edges()[static_cast<size_t>(ranking[static_cast<size_t>(i)])].sender;
    EXPECT_EQ(sender == removed_sender, i >= kept) << "position " << i;
  }
}

TEST(HeadCircuitFaithfulness, AllButOneHeadIsNoisePatchingOfThatHead) {
  const auto model = Transformer::load(test::fixture("zoo/ioi-2x4"));
  const ModelConfig& c = model->config();
  HookedModel hooked(model);
  const EapGraph graph(c);
  const std::vector<PatchingPair> pairs = task_pairs(c, "ioi", 6, 64, 1);
  const PatchingResult noise = activation_patching(
      hooked, pairs, PatchingOptions().with_direction(PatchDirection::kNoise).with_quiet(true));
  const double gap = noise.clean_mean - noise.corrupted_mean;
  ASSERT_GT(std::fabs(gap), 1.0);
  // Both sides are means over the pairs of float32 logit differences, each within the bound of
  // the exact value, divided by the same gap.
  const double tolerance = logit_diff_bound(hooked, pairs) / std::fabs(gap);
  const EapOptions options = EapOptions().with_quiet(true);

  std::vector<uint8_t> all(static_cast<size_t>(c.n_layers * c.n_heads), 1);
  EXPECT_NEAR(head_circuit_faithfulness(hooked, graph, pairs, all, options, noise.clean_mean,
                                        noise.corrupted_mean)
                  .faithfulness,
              1.0, tolerance);
  for (int64_t h = 0; h < c.n_layers * c.n_heads; ++h) {
    std::vector<uint8_t> selected = all;
    selected[static_cast<size_t>(h)] = 0;
    const FaithfulnessPoint p = head_circuit_faithfulness(hooked, graph, pairs, selected, options,
                                                          noise.clean_mean, noise.corrupted_mean);
    EXPECT_NEAR(p.faithfulness, noise.scores[static_cast<size_t>(h)], tolerance)
        << "without L" << h / c.n_heads << " H" << h % c.n_heads;
  }
}

}  // namespace
}  // namespace headscope
