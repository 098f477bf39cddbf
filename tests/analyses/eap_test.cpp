// Edge attribution patching (analyses/circuits/edge_attribution.h) checked by other means:
// - the graph's edges and names, GQA and parallel-residual models included;
// - with no edge removed, the split-input pass is the model's own forward pass on every fixture
//   family; with every edge removed (patch), it is the corrupted run;
// - EAP's edge scores equal the derivative of the metric with respect to that one edge's
//   corruption, by central finite differences through the intervention (float64);
// - a head's score (the sum of its outgoing edges) equals the finite difference of corrupting
//   its hook_z through an ordinary hook, a code path that shares nothing with the edge pass;
// - EAP-IG's edges out of the input node add up, as the integral they discretise must, to the
//   exact effect of corrupting the input (m(corrupted) − m(clean)), converging with the steps;
// - faithfulness is 1 for the full graph and 0 for the empty one on the zoo IOI model;
// - refused options.
#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <optional>
#include <random>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "analyses/circuits/edge_attribution.h"
#include "analyses/circuits/edge_intervention.h"
#include "analyses/circuits/patching_runs.h"
#include "analyses/circuits/task_pairs.h"
#include "core/base/error.h"
#include "tests/support/fixtures.h"
#include "tests/support/forward_bounds.h"

namespace headscope {
namespace {

using ::testing::HasSubstr;

std::shared_ptr<Transformer> load(const std::string& fixture, torch::ScalarType dtype) {
  return Transformer::load(test::fixture(fixture), ModelLoadOptions().with_dtype(dtype));
}

// n pairs of `length` random tokens; the corrupted twin differs at two positions.
std::vector<PatchingPair> random_pairs(const ModelConfig& c, int64_t n, int64_t length,
                                       uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int32_t> token(0, static_cast<int32_t>(c.vocab_size) - 1);
  std::vector<PatchingPair> pairs;
  for (int64_t i = 0; i < n; ++i) {
    PatchingPair p;
    for (int64_t t = 0; t < length; ++t) p.clean.push_back(token(rng));
    p.corrupted = p.clean;
    for (const int64_t t : {int64_t{1}, length / 2}) {
      do p.corrupted[static_cast<size_t>(t)] = token(rng);
      while (p.corrupted[static_cast<size_t>(t)] == p.clean[static_cast<size_t>(t)]);
    }
    p.answer = token(rng);
    do p.distractor = token(rng);
    while (p.distractor == p.answer);
    p.position = length - 1;
    p.source = "random pair " + std::to_string(i);
    pairs.push_back(p);
  }
  return pairs;
}

std::vector<int64_t> all_rows(const std::vector<PatchingPair>& pairs) {
  std::vector<int64_t> rows(pairs.size());
  for (size_t i = 0; i < rows.size(); ++i) rows[i] = static_cast<int64_t>(i);
  return rows;
}

// Mean logit difference of the last position over the rows of `logits` [B, T, V].
double mean_logit_diff(const torch::Tensor& logits, const std::vector<PatchingPair>& pairs) {
  double sum = 0.0;
  for (size_t b = 0; b < pairs.size(); ++b) {
    const auto row = logits[static_cast<int64_t>(b)][pairs[b].position].to(torch::kFloat64);
    sum += row[pairs[b].answer].item<double>() - row[pairs[b].distractor].item<double>();
  }
  return sum / static_cast<double>(pairs.size());
}

// The float bound on a mean logit difference: per pair the bound of two forward passes on the
// answer's and the distractor's logits (tests/support/forward_bounds.h) in precision u, with the
// final residual's terms magnified by `spread` (a residual rebuilt from a sum of senders errs
// relative to the sum of their magnitudes, not to the residual's).
double mean_logit_diff_bound(const std::shared_ptr<const Transformer>& model,
                             const std::vector<PatchingPair>& pairs, bool clean, double u,
                             double spread) {
  HookedModel hooked(model);
  torch::NoGradGuard no_grad;
  ActivationCache cache;
  hooked.run_with_cache(stack_tokens(pairs, all_rows(pairs), clean), {"ln_final.hook_normalized"},
                        cache);
  const torch::Tensor h = cache.at("ln_final.hook_normalized");
  const ModelConfig& c = model->config();
  const int64_t seq = h.size(1);
  const double g = test::tol::gamma(test::tol::chain_length(c, seq, c.n_layers, true), u);
  double sum = 0.0;
  for (size_t b = 0; b < pairs.size(); ++b) {
    const auto terms =
        test::tol::abs_matmul(h[static_cast<int64_t>(b)][pairs[b].position].view({1, -1}),
                              model->weights().unembed.t())
            .view({-1});
    sum += 2.0 * g * spread *
           (terms[pairs[b].answer].item<double>() + terms[pairs[b].distractor].item<double>());
  }
  return sum / static_cast<double>(pairs.size());
}

// max over rows and positions of Σ_u |a_u| / |Σ_u a_u| (max norms) of the final residual: how
// much rebuilding a receiver's input from its senders can magnify rounding: x − Σ (a_u − a'_u)
// errs relative to |x| + Σ |a_u| + Σ |a'_u|, at most (1 + 2 spread) times the result's scale.
double sender_spread(const torch::Tensor& senders) {
  const auto s = senders.to(torch::kFloat64);
  const auto terms = s.abs().sum(2).amax(-1);
  const auto total = s.sum(2).abs().amax(-1);
  return std::max(1.0, (terms / total).max().item<double>());
}

// The batch sizing and the refusal use this estimate; at Llama-3-8B's shape one pair of 128
// tokens in bf16 is the 8.9 GB docs/CIRCUITS.md quotes.
TEST(EapGraph, RowBytesAtLlama3_8bShape) {
  ModelConfig c;
  c.family = Family::kLlama;
  c.model_type = "llama";
  c.n_layers = 32;
  c.n_heads = 32;
  c.n_kv_heads = 8;
  c.d_head = 128;
  c.d_model = 4096;
  c.d_mlp = 14336;
  c.vocab_size = 128256;
  const EapGraph g(c);
  EXPECT_EQ(g.senders(), 1 + 32 * 33);
  EXPECT_DOUBLE_EQ(eap_row_bytes(g, c, 128, 2), 8.0 * 128 * 1057 * 4096 * 2);
  EXPECT_NEAR(eap_row_bytes(g, c, 128, 2) / 1e9, 8.87, 0.01);
}

TEST(EapGraph, EdgesAndNames) {
  const auto llama = load("hf-tiny/llama", torch::kFloat32);  // 2 layers, 4 heads, 2 kv heads
  const EapGraph g(llama->config());
  EXPECT_EQ(g.senders(), 1 + 2 * 5);
  EXPECT_EQ(g.receivers(), 2 * (4 + 2 + 2 + 1) + 1);
  // Layer 0's 8 attention receivers read the input; its MLP also the 4 heads; layer 1's
  // attention 6 senders, its MLP 10; the logits 11.
  EXPECT_EQ(g.edge_count(), 8 * 1 + 5 + 8 * 6 + 10 + 11);
  EXPECT_EQ(g.sender_name(0), "input");
  EXPECT_EQ(g.sender_name(g.head_sender(1, 3)), "a1.h3");
  EXPECT_EQ(g.sender_name(g.mlp_sender(0)), "m0");
  EXPECT_EQ(g.receiver_name(g.first_receiver(1, ReceiverKind::kQ) + 2), "a1.h2<q>");
  const int64_t k1 = g.first_receiver(1, ReceiverKind::kK) + 1;
  EXPECT_EQ(g.receiver_name(k1), "a1.kv1<k>");
  EXPECT_EQ(g.receiver_heads(k1), (std::vector<std::pair<int64_t, int64_t>>{{1, 2}, {1, 3}}));
  EXPECT_EQ(g.receiver_name(g.first_receiver(0, ReceiverKind::kMlp)), "m0");
  EXPECT_EQ(g.receiver_name(g.logits_receiver()), "logits");
  EXPECT_EQ(g.sender_head(g.head_sender(1, 3)), (std::pair<int64_t, int64_t>{1, 3}));
  EXPECT_EQ(g.sender_head(g.mlp_sender(1)), (std::pair<int64_t, int64_t>{-1, -1}));

  // GPT-NeoX runs attention and MLP in parallel: the MLP does not read its own layer's heads.
  const auto neox = load("hf-tiny/gpt_neox", torch::kFloat32);
  const EapGraph p(neox->config());
  EXPECT_EQ(p.senders_before_mlp(1), p.senders_before_attention(1));
  EXPECT_EQ(p.receiver_name(p.first_receiver(0, ReceiverKind::kV)), "a0.h0<v>");
}

TEST(EapGraph, FaithfulnessSweepIsOneTwoFive) {
  EXPECT_EQ(faithfulness_sweep(1519, 200),
            (std::vector<int64_t>{0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 1519}));
  EXPECT_EQ(faithfulness_sweep(110, 40),
            (std::vector<int64_t>{0, 1, 2, 5, 10, 20, 40, 50, 100, 110}));
}

// With nothing removed, every receiver's recomputed input is the residual stream itself and the
// pass is the model's forward within two float32 forward passes' bound; with everything removed
// (patch) it is the corrupted run, within that bound magnified by the senders' spread.
TEST(EdgeIntervention, FullGraphIsTheModelAndEmptyGraphTheCorruptedRun) {
  for (const std::string& family : test::kFixtureFamilies) {
    SCOPED_TRACE(family);
    const auto model = load("hf-tiny/" + family, torch::kFloat32);
    const ModelConfig& c = model->config();
    HookedModel hooked(model);
    const EapGraph graph(c);
    const auto pairs = random_pairs(c, 2, 7, 3);
    torch::NoGradGuard no_grad;
    const auto rows = all_rows(pairs);
    const torch::Tensor clean = stack_tokens(pairs, rows, true);
    const torch::Tensor corrupted = stack_tokens(pairs, rows, false);
    EdgePassRecord corrupt_record;
    EdgePass record;
    record.record_senders = true;
    const torch::Tensor corrupt_logits =
        run_edge_pass(hooked, graph, corrupted, record, &corrupt_record);
    const torch::Tensor model_logits = model->forward(clean);

    EdgePass full;
    full.removed = torch::zeros({graph.senders(), graph.receivers()}, torch::kFloat32);
    full.replacement = corrupt_record.senders;
    EdgePassRecord clean_record;
    full.record_senders = true;
    const torch::Tensor full_logits = run_edge_pass(hooked, graph, clean, full, &clean_record);

    EdgePass empty = full;
    empty.record_senders = false;
    empty.removed = torch::ones({graph.senders(), graph.receivers()}, torch::kFloat32);
    const torch::Tensor empty_logits = run_edge_pass(hooked, graph, clean, empty, nullptr);

    for (const bool is_clean : {true, false}) {
      ActivationCache cache;
      hooked.run_with_cache(is_clean ? clean : corrupted, {"ln_final.hook_normalized"}, cache);
      const torch::Tensor h = cache.at("ln_final.hook_normalized").reshape({-1, c.d_model});
      const torch::Tensor bound =
          test::tol::logits_bound(c, clean.size(1), h, model->weights().unembed)
              .view({2, clean.size(1), -1});
      if (is_clean) {
        EXPECT_TRUE(test::tol::within(full_logits, model_logits, bound, "full graph"));
      } else {
        const double spread =
            std::max(sender_spread(clean_record.senders), sender_spread(corrupt_record.senders));
        EXPECT_TRUE(test::tol::within(empty_logits, corrupt_logits, bound * (1.0 + 2.0 * spread),
                                      "empty graph"));
      }
    }
  }
}

// The metric as a function of how much of one edge is corrupted, mean over the pairs.
double edge_metric(HookedModel& model, const EapGraph& graph,
                   const std::vector<PatchingPair>& pairs, const torch::Tensor& corrupt_senders,
                   const EapEdge& edge, double amount) {
  torch::NoGradGuard no_grad;
  EdgePass pass;
  pass.removed = torch::zeros({graph.senders(), graph.receivers()}, torch::kFloat64);
  pass.removed[edge.sender][edge.receiver] = amount;
  pass.replacement = corrupt_senders;
  return mean_logit_diff(
      run_edge_pass(model, graph, stack_tokens(pairs, all_rows(pairs), true), pass, nullptr),
      pairs);
}

struct Derivative {
  double value;  // central difference at step h/2
  double bound;  // its truncation (Richardson: |D(h) − D(h/2)|) plus rounding
};

template <typename F>
Derivative central_difference(F f, double h, double rounding) {
  const double d1 = (f(h) - f(-h)) / (2 * h);
  const double d2 = (f(h / 2) - f(-h / 2)) / h;
  // D(h) − D(h/2) = 3/4 c h² + ..., so |D(h/2)'s truncation| ≈ |D(h) − D(h/2)| / 3 < |D(h) −
  // D(h/2)|; each evaluation errs by `rounding`, so D(h/2) by 2 rounding / h.
  return {d2, std::abs(d1 - d2) + 2 * rounding / h};
}

// Causal softmax attention in the inputs' dtype (the model's own takes the softmax in float32,
// whose rounding a float64 finite difference would see). q [B, H, T, D]; k, v [B, H, T, D] (the
// gpt2 fixture has no grouped-query attention).
std::optional<torch::Tensor> float64_attention(int64_t, const torch::Tensor& q,
                                               const torch::Tensor& k, const torch::Tensor& v,
                                               double scale) {
  const int64_t t = q.size(2);
  const auto future = torch::ones({t, t}, torch::kBool).triu(1);
  const auto scores = torch::matmul(q, k.transpose(2, 3))
                          .mul(scale)
                          .masked_fill(future, -std::numeric_limits<double>::infinity());
  return torch::matmul(torch::softmax(scores, -1), v);
}

// EAP on the gpt2 fixture in float64 (LayerNorm, and attention through float64_attention: no
// float32 step anywhere), two random pairs.
class EapFloat64 : public ::testing::Test {
 protected:
  void SetUp() override {
    model_ = load("hf-tiny/gpt2", torch::kFloat64);
    pairs_ = random_pairs(model_->config(), 2, 6, 11);
    graph_ = std::make_unique<EapGraph>(model_->config());
    hooked_ = std::make_unique<HookedModel>(model_);
    hooked_->set_attention_override(float64_attention);
    torch::NoGradGuard no_grad;
    EdgePassRecord record;
    EdgePass pass;
    pass.record_senders = true;
    run_edge_pass(*hooked_, *graph_, stack_tokens(pairs_, all_rows(pairs_), false), pass, &record);
    corrupt_senders_ = record.senders;
    // Rounding of one evaluation of the mean logit difference in float64.
    rounding_ = mean_logit_diff_bound(model_, pairs_, true, test::tol::kFloat64,
                                      1.0 + 2.0 * sender_spread(corrupt_senders_));
  }

  std::shared_ptr<Transformer> model_;
  std::vector<PatchingPair> pairs_;
  std::unique_ptr<EapGraph> graph_;
  std::unique_ptr<HookedModel> hooked_;
  torch::Tensor corrupt_senders_;
  double rounding_ = 0.0;
};

TEST_F(EapFloat64, EdgeScoresAreTheFirstOrderTaylorEstimate) {
  const EapResult r = edge_attribution(*hooked_, *graph_, pairs_,
                                       EapOptions()
                                           .with_method(EapMethod::kEap)
                                           .with_faithfulness(false)
                                           .with_quiet(true)
                                           .with_top_n(1));
  // The largest edge into each kind of receiver, and the input's direct edge to the logits.
  std::vector<int64_t> checked;
  for (const ReceiverKind kind : {ReceiverKind::kQ, ReceiverKind::kK, ReceiverKind::kV,
                                  ReceiverKind::kMlp, ReceiverKind::kLogits}) {
    int64_t best = -1;
    for (size_t e = 0; e < graph_->edges().size(); ++e) {
      if (graph_->receiver(graph_->edges()[e].receiver).kind != kind) continue;
      if (best < 0 || std::abs(r.scores[e]) > std::abs(r.scores[static_cast<size_t>(best)]))
        best = static_cast<int64_t>(e);
    }
    checked.push_back(best);
  }
  for (size_t e = 0; e < graph_->edges().size(); ++e) {
    if (graph_->edges()[e].sender == EapGraph::kInput &&
        graph_->edges()[e].receiver == graph_->logits_receiver())
      checked.push_back(static_cast<int64_t>(e));
  }
  for (const int64_t e : checked) {
    const EapEdge& edge = graph_->edges()[static_cast<size_t>(e)];
    SCOPED_TRACE(graph_->sender_name(edge.sender) + " -> " + graph_->receiver_name(edge.receiver));
    const Derivative d = central_difference(
        [&](double a) { return edge_metric(*hooked_, *graph_, pairs_, corrupt_senders_, edge, a); },
        1e-2, rounding_);
    const double score = r.scores[static_cast<size_t>(e)];
    EXPECT_NEAR(score, d.value, d.bound);
    // Tight enough to catch a wrong position sum or a missing path (a few percent).
    EXPECT_LT(d.bound, 0.01 * std::abs(score) + 1e-9);
  }
}

TEST_F(EapFloat64, HeadScoreIsTheDerivativeOfCorruptingItsZ) {
  const EapResult r = edge_attribution(*hooked_, *graph_, pairs_,
                                       EapOptions()
                                           .with_method(EapMethod::kEap)
                                           .with_faithfulness(false)
                                           .with_quiet(true)
                                           .with_top_n(1));
  const ModelConfig& c = model_->config();
  const std::vector<double> heads = head_scores(*graph_, r);
  const double gap = r.clean_mean - r.corrupted_mean;
  torch::NoGradGuard no_grad;
  const auto rows = all_rows(pairs_);
  for (int64_t layer = 0; layer < c.n_layers; ++layer) {
    const std::string z = "blocks." + std::to_string(layer) + ".attn.hook_z";
    ActivationCache cache;
    hooked_->run_with_cache(stack_tokens(pairs_, rows, false), {z}, cache);
    const torch::Tensor corrupt_z = cache.at(z);
    for (int64_t head = 0; head < c.n_heads; ++head) {
      SCOPED_TRACE(z + " head " + std::to_string(head));
      const auto f = [&](double a) {
        ScopedHooks hook(*hooked_);
        hook.add(z, [&](const torch::Tensor& value, const HookContext&) {
          torch::Tensor out = value.clone();
          out.select(2, head) += a * (corrupt_z.select(2, head) - value.select(2, head));
          return std::optional<torch::Tensor>(out);
        });
        return mean_logit_diff(hooked_->forward(stack_tokens(pairs_, rows, true)), pairs_);
      };
      const Derivative d = central_difference(f, 1e-2, rounding_);
      // heads = −Σ out-edges / gap, and Σ out-edges is the derivative.
      EXPECT_NEAR(-heads[static_cast<size_t>(layer * c.n_heads + head)] * gap, d.value, d.bound);
    }
  }
}

TEST_F(EapFloat64, IgInputEdgesConvergeToTheExactEffectOfTheInput) {
  // Σ_v s(input, v) = (e_corrupted − e_clean) · mean_k ∇m(run k): the midpoint rule for
  // ∫_0^1 d/dα m(e_corrupted + α (e_clean − e_corrupted)) dα · (−1) = m(corrupted) − m(clean).
  const auto input_sum = [&](int64_t steps, EapResult* out) {
    const EapResult r = edge_attribution(*hooked_, *graph_, pairs_,
                                         EapOptions()
                                             .with_method(EapMethod::kEapIg)
                                             .with_steps(steps)
                                             .with_faithfulness(false)
                                             .with_quiet(true)
                                             .with_top_n(1));
    double sum = 0.0;
    for (size_t e = 0; e < graph_->edges().size(); ++e) {
      if (graph_->edges()[e].sender == EapGraph::kInput) sum += r.scores[e];
    }
    if (out != nullptr) *out = r;
    return sum;
  };
  EapResult r;
  const double s8 = input_sum(8, &r);
  const double s16 = input_sum(16, nullptr);
  const double exact = r.corrupted_mean - r.clean_mean;
  // Midpoint rule: error(16) ≈ (s8 − s16) / 3; allowed |s8 − s16| plus rounding.
  EXPECT_NEAR(s16, exact, std::abs(s8 - s16) + 2 * rounding_);
  EXPECT_LT(std::abs(s16 - exact), std::abs(s8 - exact));
  // Not trivially so: the bound is a small part of the effect.
  EXPECT_LT(std::abs(s8 - s16) + 2 * rounding_, 0.05 * std::abs(exact));
}

// The zoo IOI model in float64 (its RMSNorm still computes in float32: the bounds use float32's
// u), IOI pairs: the full graph is the clean run, the empty one the corrupted run.
TEST(EapFaithfulness, FullGraphIsOneAndEmptyGraphZero) {
  const auto model = load("zoo/ioi-2x4", torch::kFloat64);
  const ModelConfig& c = model->config();
  HookedModel hooked(model);
  const EapGraph graph(c);
  std::vector<PatchingPair> pairs = task_pairs(c, "ioi", 12, 64, 5);
  // One length, so that the float bound below sees the pairs of one batch.
  const int64_t length = static_cast<int64_t>(pairs.front().clean.size());
  pairs.erase(std::remove_if(pairs.begin(), pairs.end(),
                             [&](const PatchingPair& p) {
                               return static_cast<int64_t>(p.clean.size()) != length;
                             }),
              pairs.end());
  ASSERT_GE(pairs.size(), 2u);
  const EapResult r = edge_attribution(hooked, graph, pairs,
                                       EapOptions().with_steps(2).with_top_n(20).with_quiet(true));
  ASSERT_EQ(r.curve.front().edges, 0);
  ASSERT_EQ(r.curve.back().edges, graph.edge_count());
  const double gap = r.clean_mean - r.corrupted_mean;
  torch::NoGradGuard no_grad;
  EdgePassRecord clean_record, corrupt_record;
  EdgePass record;
  record.record_senders = true;
  run_edge_pass(hooked, graph, stack_tokens(pairs, all_rows(pairs), true), record, &clean_record);
  run_edge_pass(hooked, graph, stack_tokens(pairs, all_rows(pairs), false), record,
                &corrupt_record);
  const double spread =
      std::max(sender_spread(clean_record.senders), sender_spread(corrupt_record.senders));
  const double full_bound = mean_logit_diff_bound(model, pairs, true, test::tol::kFloat32, 1.0);
  const double empty_bound =
      mean_logit_diff_bound(model, pairs, false, test::tol::kFloat32, 1.0 + 2.0 * spread);
  EXPECT_NEAR(r.curve.back().faithfulness, 1.0, full_bound / std::abs(gap));
  EXPECT_NEAR(r.curve.front().faithfulness, 0.0, empty_bound / std::abs(gap));
  // The top edges carry most of the gap on this trained model, and the area is a fraction.
  EXPECT_GT(r.area, 0.0);
  EXPECT_LE(r.area, 1.5);

  // Mean and zero ablation change what a removed edge carries, not the full graph; their empty
  // graph ablates every sender, which is not the corrupted run.
  for (const EapAblation ablation : {EapAblation::kMean, EapAblation::kZero}) {
    SCOPED_TRACE(eap_ablation_name(ablation));
    const auto curve = faithfulness_curve(hooked, graph, pairs, r.ranking, {0, graph.edge_count()},
                                          EapOptions().with_ablation(ablation).with_quiet(true),
                                          r.clean_mean, r.corrupted_mean);
    EXPECT_NEAR(curve.back().faithfulness, 1.0, full_bound / std::abs(gap));
    EXPECT_TRUE(std::isfinite(curve.front().faithfulness));
    EXPECT_GT(std::abs(curve.front().faithfulness), 10 * empty_bound / std::abs(gap));
  }
}

TEST(EapOptions, BadOptionsAreRefusedBeforeAnyCompute) {
  const auto model = load("zoo/ioi-2x4", torch::kFloat32);
  HookedModel hooked(model);
  const EapGraph graph(model->config());
  const auto pairs = task_pairs(model->config(), "ioi", 2, 64, 0);
  const auto refuses = [&](const std::vector<PatchingPair>& p, const EapOptions& o,
                           const std::string& message) {
    try {
      edge_attribution(hooked, graph, p, EapOptions(o).with_quiet(true));
      ADD_FAILURE() << "accepted; expected: " << message;
    } catch (const InvalidInput& e) {
      EXPECT_THAT(e.what(), HasSubstr(message));
    }
  };
  refuses({}, EapOptions().with_top_n(10), "no pairs");
  refuses(pairs, EapOptions().with_top_n(10).with_steps(0), "--steps");
  refuses(pairs, EapOptions().with_top_n(0), "--top-n");
  refuses(pairs, EapOptions().with_top_n(graph.edge_count() + 1), "--top-n");
  refuses(pairs,
          EapOptions().with_top_n(10).with_method(EapMethod::kEap).with_metric(PatchingMetric::kKl),
          "--method eap --metric kl");
  std::vector<PatchingPair> no_distractor = pairs;
  no_distractor[1].distractor = -1;
  refuses(no_distractor, EapOptions().with_top_n(10), "has no distractor");
}

}  // namespace
}  // namespace headscope
