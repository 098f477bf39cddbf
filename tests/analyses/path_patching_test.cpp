// Path patching: on a model whose circuit is known by construction it finds exactly the heads
// with a direct effect on the logits, the head that feeds another through its value, and that
// circuit stage by stage; a last-layer sender into the logits equals activation patching of its
// z in the noise direction (two code paths); the batched sweep equals Wang et al.'s two passes
// written directly with HookedModel, on the zoo IOI model and the grouped-query llama fixture;
// bad receivers are refused.
#include <cmath>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "analyses/circuits/activation_patching.h"
#include "analyses/circuits/path_patching.h"
#include "analyses/circuits/task_pairs.h"
#include "core/base/error.h"
#include "tests/support/error_message.h"
#include "tests/support/fixtures.h"
#include "tests/support/forward_bounds.h"

namespace headscope {
namespace {

using ::testing::HasSubstr;

// Subspaces of the hand-built model's residual stream, each vocab-sized: E the token identity
// (the embedding), S the copy the first mover writes, U the one the unembedding reads, J and K
// two that nothing reads.
constexpr int64_t kVocab = 8;
constexpr int64_t kE = 0, kS = 8, kU = 16, kJ = 24, kK = 32;

// Columns [from, from + kVocab) of a [kVocab, d_model] selector.
torch::Tensor read_from(int64_t from, int64_t d_model) {
  auto w = torch::zeros({kVocab, d_model});
  w.narrow(1, from, kVocab).copy_(torch::eye(kVocab));
  return w;
}

// A llama-shaped model (RMSNorm, zero MLPs) of 2 layers x 3 heads whose circuit is known by
// construction. Every query and key projection is zero, so every head attends uniformly to the
// positions so far; heads differ in what their value reads and their output writes:
//   L0 H0 (A): reads E, writes S;  L0 H1: reads E, writes J;  L0 H2: writes nothing;
//   L1 H0 (B): reads S, writes U;  L1 H1 (C): reads E, writes U;  L1 H2: reads E, writes K.
// The logits read U only. So B and C act on the logits directly, A only through B's value, and
// the rest not at all. A corrupted prompt swaps a token that occurs once for another that does
// not occur, which permutes coordinates within a head's output: a subspace one head writes keeps
// its norm, so a head alone in its subspace whose path does not reach the logits leaves every
// RMSNorm scale, and the logits, exact. (J and K are separate: two heads writing one subspace,
// one of them corrupted, would change its norm and reach the logits through the final norm.)
std::shared_ptr<Transformer> circuit_model() {
  ModelConfig c;
  c.model_type = "llama";
  c.n_layers = 2;
  c.n_heads = 3;
  c.n_kv_heads = 3;
  c.d_model = 5 * kVocab;
  c.d_head = kVocab;
  c.d_mlp = 4;
  c.vocab_size = kVocab;
  c.max_positions = 64;
  const int64_t d = c.d_model;
  ModelWeights w;
  w.embed = read_from(kE, d);    // token t: the unit vector e_t of E
  w.unembed = read_from(kU, d);  // logit t: coordinate t of U
  w.final_norm_w = torch::ones({d});
  const int64_t reads[2][3] = {{kE, kE, kE}, {kS, kE, kE}};
  const int64_t writes[2][3] = {{kS, kJ, -1}, {kU, kU, kK}};
  for (int64_t layer = 0; layer < 2; ++layer) {
    LayerWeights l;
    l.ln1_w = torch::ones({d});
    l.ln2_w = torch::ones({d});
    l.wq = torch::zeros({3 * kVocab, d});
    l.wk = torch::zeros({3 * kVocab, d});
    l.wv = torch::zeros({3 * kVocab, d});
    l.wo = torch::zeros({d, 3 * kVocab});
    for (int64_t h = 0; h < 3; ++h) {
      l.wv.narrow(0, h * kVocab, kVocab).copy_(read_from(reads[layer][h], d));
      if (writes[layer][h] >= 0) {
        l.wo.narrow(0, writes[layer][h], kVocab)
            .narrow(1, h * kVocab, kVocab)
            .copy_(torch::eye(kVocab));
      }
    }
    l.w_gate = torch::zeros({c.d_mlp, d});
    l.w_up = torch::zeros({c.d_mlp, d});
    l.w_down = torch::zeros({d, c.d_mlp});
    w.layers.push_back(std::move(l));
  }
  return Transformer::from_weights(c, std::move(w));
}

// Distinct tokens; the corrupted prompt swaps the one at `at` for a token the prompt lacks. The
// answer is the swapped-out token, the distractor its replacement.
PatchingPair swap_pair(std::vector<int32_t> clean, size_t at, int32_t replacement) {
  PatchingPair p;
  p.clean = clean;
  p.corrupted = clean;
  p.corrupted[at] = replacement;
  p.answer = clean[at];
  p.distractor = replacement;
  p.position = static_cast<int64_t>(clean.size()) - 1;
  p.source = "swap pair";
  return p;
}

std::vector<PatchingPair> circuit_pairs() {
  return {swap_pair({0, 1, 2, 3, 4, 5}, 2, 6), swap_pair({5, 3, 7, 1, 0}, 1, 2),
          swap_pair({4, 6, 1, 2, 7, 0, 3}, 4, 5)};
}

torch::Tensor tokens_of(const std::vector<int32_t>& ids) {
  return torch::tensor(std::vector<int64_t>(ids.begin(), ids.end()), torch::kInt64).view({1, -1});
}

struct Manual {
  double metric = 0.0;  // the logit difference after pass 2
  double bound = 0.0;   // two float32 computations of it agree within this
};

// Wang et al.'s two passes for one pair and one sender, written directly: every layer's hook_z
// replaced by the clean run's with the sender's head taken from the corrupted run; the
// receivers' hook_q/k/v read; then a clean run with those slices written in. No receivers: the
// logits (pass 1 is the answer). `final_only`: the sender's corrupted value at the pair's scored
// position only.
Manual manual_path_patch(HookedModel& model, const PatchingPair& pair, const HeadIndex& sender,
                         const std::vector<HeadReceiver>& receivers, bool final_only = false) {
  torch::NoGradGuard no_grad;
  const Transformer& net = model.model();
  const ModelConfig& c = net.config();
  std::vector<std::string> z;
  for (int64_t l = 0; l < c.n_layers; ++l) z.push_back(net.hook_names().name({l, HookKind::kZ}));
  ActivationCache clean, corrupt;
  model.run_with_cache(tokens_of(pair.clean), z, clean);
  model.run_with_cache(tokens_of(pair.corrupted), z, corrupt);
  // The hook name of a receiver and the head index in its tensor.
  const auto slot = [&](const HeadReceiver& r) {
    const HookKind kind = r.input == ReceiverInput::kQ   ? HookKind::kQ
                          : r.input == ReceiverInput::kK ? HookKind::kK
                                                         : HookKind::kV;
    const int64_t head =
        r.input == ReceiverInput::kQ ? r.at.head : r.at.head / (c.n_heads / c.n_kv_heads);
    return std::pair<std::string, int64_t>(net.hook_names().name({r.at.layer, kind}), head);
  };
  std::vector<HookedModel::HookId> ids;
  for (int64_t l = 0; l < c.n_layers; ++l) {
    const torch::Tensor frozen = clean.at(z[static_cast<size_t>(l)]).clone();
    if (l == sender.layer) {
      const torch::Tensor from = corrupt.at(z[static_cast<size_t>(l)]).select(2, sender.head);
      torch::Tensor to = frozen.select(2, sender.head);
      if (final_only) {
        to.select(1, pair.position).copy_(from.select(1, pair.position));
      } else {
        to.copy_(from);
      }
    }
    ids.push_back(model.add_hook(z[static_cast<size_t>(l)],
                                 [frozen](const torch::Tensor&, const HookContext&) {
                                   return std::optional<torch::Tensor>(frozen);
                                 }));
  }
  std::map<std::string, torch::Tensor> seen;
  for (const HeadReceiver& r : receivers) {
    const std::string name = slot(r).first;
    ids.push_back(model.add_hook(name, [&seen, name](const torch::Tensor& v, const HookContext&) {
      seen[name] = v.clone();
      return std::optional<torch::Tensor>();
    }));
  }
  ActivationCache final_norm;
  torch::Tensor logits =
      model.run_with_cache(tokens_of(pair.clean), {"ln_final.hook_normalized"}, final_norm);
  for (const auto id : ids) model.remove_hook(id);
  ids.clear();
  if (!receivers.empty()) {
    for (const HeadReceiver& r : receivers) {
      const auto [name, head] = slot(r);
      const torch::Tensor source = seen.at(name).select(2, head).clone();
      ids.push_back(
          model.add_hook(name, [source, head = head](const torch::Tensor& v, const HookContext&) {
            torch::Tensor out = v.clone();
            out.select(2, head).copy_(source);
            return std::optional<torch::Tensor>(out);
          }));
    }
    final_norm = ActivationCache();
    logits = model.run_with_cache(tokens_of(pair.clean), {"ln_final.hook_normalized"}, final_norm);
    for (const auto id : ids) model.remove_hook(id);
  }
  const torch::Tensor at = logits[0][pair.position];
  const torch::Tensor h = final_norm.at("ln_final.hook_normalized")[0][pair.position].view({1, -1});
  const torch::Tensor bound =
      test::tol::logits_bound(c, static_cast<int64_t>(pair.clean.size()), h, net.weights().unembed)
          .view({-1});
  return {at[pair.answer].item<double>() - at[pair.distractor].item<double>(),
          bound[pair.answer].item<double>() + bound[pair.distractor].item<double>()};
}

double score_at(const PathPatchingResult& r, int64_t layer, int64_t head) {
  return r.scores[static_cast<size_t>(layer * r.n_heads + head)];
}

// Every sender's per-pair metric equals the manual two passes within their float32 bound, and so
// does its score (the mean of the manual metrics, normalised alike).
void expect_equals_manual(HookedModel& model, const std::vector<PatchingPair>& pairs,
                          const PathReceivers& receivers, const PathPatchingResult& r,
                          bool final_only = false) {
  const int64_t heads = r.n_layers * r.n_heads;
  for (const HeadIndex& s : r.senders) {
    double sum = 0.0, bound = 0.0;
    for (size_t p = 0; p < pairs.size(); ++p) {
      const Manual m = manual_path_patch(model, pairs[p], s, receivers.heads, final_only);
      sum += m.metric;
      bound += m.bound;
      EXPECT_NEAR(r.per_sample[p * static_cast<size_t>(heads) +
                               static_cast<size_t>(s.layer * r.n_heads + s.head)],
                  m.metric, m.bound)
          << receivers_text(receivers) << ", sender " << head_node_name(s) << ", pair " << p;
    }
    const auto n = static_cast<double>(pairs.size());
    EXPECT_NEAR(score_at(r, s.layer, s.head),
                (sum / n - r.clean_mean) / (r.clean_mean - r.corrupted_mean),
                bound / n / std::abs(r.clean_mean - r.corrupted_mean))
        << receivers_text(receivers) << ", sender " << head_node_name(s);
  }
}

// The largest bound of the unpatched clean runs' logit difference, normalised by the gap: a
// score whose exact value is 0 is within it.
double zero_bound(HookedModel& model, const std::vector<PatchingPair>& pairs,
                  const PathPatchingResult& r) {
  double bound = 0.0;
  for (const PatchingPair& p : pairs)
    bound = std::max(bound, manual_path_patch(model, p, {0, 2}, {}).bound);
  return bound / std::abs(r.clean_mean - r.corrupted_mean);
}

TEST(PathPatching, HandBuiltModelLogitsFindTheDirectHeads) {
  HookedModel model(circuit_model());
  const std::vector<PatchingPair> pairs = circuit_pairs();
  const PathReceivers logits =
      parse_path_receivers("logits", model.model().config(), kAllReceiverInputs);
  const PathPatchingResult r = path_patching(
      model, pairs, logits, {}, PathPatchingOptions().with_batch_size(4).with_quiet(true));
  ASSERT_EQ(r.senders.size(), 6u);
  EXPECT_GT(r.clean_mean, 0.0);
  EXPECT_LT(r.corrupted_mean, 0.0);
  const double zero = zero_bound(model, pairs, r);
  // B and C write the answer's logit: noising either loses a large part of the gap.
  EXPECT_LT(score_at(r, 1, 0), -0.1);
  EXPECT_LT(score_at(r, 1, 1), -0.1);
  // A reaches the logits only through B (frozen here); the others not at all.
  for (const auto& [layer, head] : {std::pair{0, 0}, {0, 1}, {0, 2}, {1, 2}}) {
    EXPECT_NEAR(score_at(r, layer, head), 0.0, zero) << "L" << layer << " H" << head;
  }
  EXPECT_GT(0.1, 100 * zero) << "the zero bound is too loose to tell a 0.1 effect";
  expect_equals_manual(model, pairs, logits, r);
}

TEST(PathPatching, HandBuiltModelHeadReceiversFindTheValuePath) {
  HookedModel model(circuit_model());
  const ModelConfig& c = model.model().config();
  const std::vector<PatchingPair> pairs = circuit_pairs();
  const PathPatchingOptions options = PathPatchingOptions().with_batch_size(5).with_quiet(true);
  const PathReceivers b_value = parse_path_receivers("1.0:v", c, kAllReceiverInputs);
  const PathPatchingResult r = path_patching(model, pairs, b_value, {}, options);
  ASSERT_EQ(r.senders.size(), 3u);
  EXPECT_TRUE(std::isnan(score_at(r, 1, 0)));
  const double zero = zero_bound(model, pairs, r);
  EXPECT_LT(score_at(r, 0, 0), -0.1);
  EXPECT_NEAR(score_at(r, 0, 1), 0.0, zero);
  EXPECT_NEAR(score_at(r, 0, 2), 0.0, zero);
  expect_equals_manual(model, pairs, b_value, r);
  // B's query is zero whatever its input; C's value reads E, which A does not write.
  for (const std::string receivers : {"1.0:q", "1.0:k", "1.1", "1.2:v"}) {
    const PathReceivers other = parse_path_receivers(receivers, c, kAllReceiverInputs);
    const PathPatchingResult none = path_patching(model, pairs, other, {}, options);
    for (int64_t h = 0; h < 3; ++h) {
      EXPECT_NEAR(score_at(none, 0, h), 0.0, zero) << receivers << ", sender L0 H" << h;
    }
  }
}

TEST(PathPatching, IterativeRecoversTheCircuitStageByStage) {
  HookedModel model(circuit_model());
  const std::vector<PatchingPair> pairs = circuit_pairs();
  const PathReceivers logits =
      parse_path_receivers("logits", model.model().config(), kAllReceiverInputs);
  for (const PathCircuitOptions& options :
       {PathCircuitOptions().with_iterative(true).with_threshold(0.05),
        PathCircuitOptions().with_iterative(true).with_top_fraction(0.3)}) {
    PathCircuitOptions o = options;
    o.patching.with_batch_size(4).with_quiet(true);
    const PathCircuit circuit = path_circuit(model, pairs, logits, o);
    // Stage 0: B and C into the logits; stage 1: A into B's value; stage 2 has no senders.
    ASSERT_EQ(circuit.stages.size(), 2u);
    EXPECT_EQ(circuit.stage_of_head, (std::vector<int64_t>{1, -1, -1, 0, 0, -1}));
    std::vector<std::string> edges;
    for (const PathCircuitEdge& e : circuit.edges) {
      edges.push_back(std::to_string(e.stage) + " " + e.edge.sender + "->" + e.edge.receiver);
      EXPECT_LT(e.edge.score, -0.05) << edges.back();
    }
    EXPECT_EQ(edges, (std::vector<std::string>{"0 a1.h0->logits", "0 a1.h1->logits",
                                               "1 a0.h0->a1.h0<v>"}));
    EXPECT_EQ(receivers_text(circuit.stages[1].receivers),
              "a1.h0<q>,a1.h0<k>,a1.h0<v>,a1.h1<q>,a1.h1<k>,a1.h1<v>");
    const std::vector<double> scores = circuit.head_scores();
    EXPECT_DOUBLE_EQ(scores[3], score_at(circuit.stages[0].result, 1, 0));
  }
}

// Two code paths: a last-layer head has no later head to freeze, and its own layer's heads read
// the same input whether frozen or not, so its path to the logits is the clean run with its z
// from the corrupted run: activation patching of z in the noise direction, whose score is
// normalised from the corrupted end (path score = noise score - 1).
void expect_last_layer_is_noise_patching(HookedModel& model,
                                         const std::vector<PatchingPair>& pairs) {
  const ModelConfig& c = model.model().config();
  const PathReceivers logits = parse_path_receivers("logits", c, kAllReceiverInputs);
  const PathPatchingResult path = path_patching(
      model, pairs, logits, {}, PathPatchingOptions().with_batch_size(6).with_quiet(true));
  const PatchingResult noise = activation_patching(
      model, pairs,
      PatchingOptions().with_direction(PatchDirection::kNoise).with_batch_size(5).with_quiet(true));
  const int64_t last = c.n_layers - 1, heads = c.n_layers * c.n_heads;
  for (int64_t h = 0; h < c.n_heads; ++h) {
    const size_t at = static_cast<size_t>(last * c.n_heads + h);
    double bound = 0.0;
    for (size_t p = 0; p < pairs.size(); ++p) {
      const Manual m = manual_path_patch(model, pairs[p], {last, h}, {});
      bound += m.bound;
      EXPECT_NEAR(path.per_sample[p * static_cast<size_t>(heads) + at],
                  noise.per_sample[p * static_cast<size_t>(heads) + at], m.bound)
          << "pair " << p << ", head " << h;
    }
    bound /= static_cast<double>(pairs.size()) * std::abs(path.clean_mean - path.corrupted_mean);
    // The unpatched means are the same runs in both: equal to rounding of a sum of N doubles.
    EXPECT_NEAR(path.scores[at], noise.scores[at] - 1.0, bound) << "head " << h;
  }
}

TEST(PathPatching, LastLayerIntoLogitsIsNoisePatchingOfZ) {
  auto zoo = Transformer::load(test::fixture("zoo/ioi-2x4"));
  HookedModel model(zoo);
  expect_last_layer_is_noise_patching(model, task_pairs(zoo->config(), "ioi", 5, 64, 2));
  HookedModel built(circuit_model());
  expect_last_layer_is_noise_patching(built, circuit_pairs());
}

TEST(PathPatching, ZooSweepEqualsManualTwoPasses) {
  auto zoo = Transformer::load(test::fixture("zoo/ioi-2x4"));
  HookedModel model(zoo);
  const std::vector<PatchingPair> pairs = task_pairs(zoo->config(), "ioi", 3, 64, 5);
  for (const std::string receivers : {"logits", "1.3:v", "1.2:q,1.0:k"}) {
    const PathReceivers parsed = parse_path_receivers(receivers, zoo->config(), kAllReceiverInputs);
    const PathPatchingResult r = path_patching(
        model, pairs, parsed, {}, PathPatchingOptions().with_batch_size(5).with_quiet(true));
    expect_equals_manual(model, pairs, parsed, r);
  }
}

// --sender-positions final: the sender corrupted at the scored position only, against the manual
// two passes. Into the logits it is the every-position score (every other head is frozen, so the
// sender's other positions cannot reach the scored one); into a receiver's value it is not (the
// receiver reads the sender's output at every position).
TEST(PathPatching, ZooFinalPositionSendersEqualManualTwoPasses) {
  auto zoo = Transformer::load(test::fixture("zoo/ioi-2x4"));
  HookedModel model(zoo);
  const std::vector<PatchingPair> pairs = task_pairs(zoo->config(), "ioi", 3, 64, 5);
  for (const std::string receivers : {"logits", "1.3:v"}) {
    const PathReceivers parsed = parse_path_receivers(receivers, zoo->config(), kAllReceiverInputs);
    const auto options = PathPatchingOptions().with_batch_size(5).with_quiet(true);
    const PathPatchingResult final_only = path_patching(
        model, pairs, parsed, {},
        PathPatchingOptions(options).with_sender_positions(SenderPositions::kFinal));
    expect_equals_manual(model, pairs, parsed, final_only, true);
    const PathPatchingResult all = path_patching(model, pairs, parsed, {}, options);
    double largest = 0.0;
    for (int64_t h = 0; h < zoo->config().n_heads; ++h) {
      largest = std::max(largest, std::abs(score_at(final_only, 0, h) - score_at(all, 0, h)));
    }
    if (parsed.logits) {
      EXPECT_LE(largest, 2.0 * zero_bound(model, pairs, all)) << receivers;
    } else {
      EXPECT_GT(largest, 1e-3) << receivers;
    }
  }
}

// Random pairs for a model without task vocabulary.
std::vector<PatchingPair> random_pairs(const ModelConfig& config, int64_t count, int64_t length) {
  std::mt19937 rng(11);
  std::uniform_int_distribution<int32_t> token(0, static_cast<int32_t>(config.vocab_size - 1));
  std::vector<PatchingPair> pairs;
  for (int64_t i = 0; i < count; ++i) {
    PatchingPair p;
    for (int64_t t = 0; t < length; ++t) p.clean.push_back(token(rng));
    p.corrupted = p.clean;
    p.corrupted[2] = token(rng);
    p.answer = token(rng);
    p.distractor = token(rng);
    p.position = length - 1;
    p.source = "random pair " + std::to_string(i);
    pairs.push_back(p);
  }
  return pairs;
}

TEST(PathPatching, GqaKeyReceiverPatchesTheKeyValueHead) {
  auto llama = Transformer::load(test::fixture("hf-tiny/llama"));
  const ModelConfig& c = llama->config();
  ASSERT_LT(c.n_kv_heads, c.n_heads);
  HookedModel model(llama);
  const std::vector<PatchingPair> pairs = random_pairs(c, 2, 9);
  const int64_t last = c.n_layers - 1;
  for (const std::string& receivers :
       {std::to_string(last) + ".1:k",
        std::to_string(last) + ".0:v," + std::to_string(last) + ".1:q"}) {
    const PathReceivers parsed = parse_path_receivers(receivers, c, kAllReceiverInputs);
    const PathPatchingResult r = path_patching(
        model, pairs, parsed, {}, PathPatchingOptions().with_batch_size(3).with_quiet(true));
    expect_equals_manual(model, pairs, parsed, r);
  }
}

TEST(PathPatching, BadReceiversAreRefused) {
  ModelConfig c;
  c.n_layers = 4;
  c.n_heads = 8;
  c.n_kv_heads = 2;
  const std::pair<std::string, std::string> cases[] = {
      {"9.9", "--receivers: '9.9': layer 9 is out of range; the model has layers 0..3"},
      {"1.9", "head 9 is out of range; the model has heads 0..7"},
      {"1.x", "--receivers: '1.x': expected logits or LAYER.HEAD[:q|k|v]"},
      {"logits:q", "--receivers: 'logits:q': the logits have no q, k or v input"},
      {"1.0:w", "the input after ':' must be q, k or v"},
      {"1.0:q,1.0", "a1.h0<q> is given twice"},
      {"logits,1.0", "logits cannot be combined with other receivers"},
      {"", "expected logits or LAYER.HEAD"},
      {"-1.0", "expected logits or LAYER.HEAD"},
  };
  for (const auto& [text, expected] : cases) {
    EXPECT_THAT(test::error_message<InvalidInput>(
                    [&] { parse_path_receivers(text, c, kAllReceiverInputs); }),
                HasSubstr(expected))
        << text;
  }
  const PathReceivers parsed = parse_path_receivers(" 2.3 , 1.0:v", c, {ReceiverInput::kK});
  EXPECT_EQ(receivers_text(parsed), "a2.h3<k>,a1.h0<v>");
  EXPECT_EQ(default_senders(c, parsed).size(), 16u);

  HookedModel model(circuit_model());
  const PathReceivers first_layer =
      parse_path_receivers("0.1", model.model().config(), kAllReceiverInputs);
  EXPECT_THAT(test::error_message<InvalidInput>([&] {
                path_patching(model, circuit_pairs(), first_layer, {}, PathPatchingOptions());
              }),
              HasSubstr("no head precedes the receivers"));
}

}  // namespace
}  // namespace headscope
