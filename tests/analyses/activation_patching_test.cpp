// The batched activation-patching sweep against the same patches made one at a time through
// hooks (hooks/head_interventions.h patch_head for hook_z, a hand-written slice copy for the
// other hook points), on the trained zoo IOI model and on the grouped-query llama fixture; the
// identity of patching the whole residual stream; the normalisation; and refused inputs.
#include <cmath>
#include <memory>
#include <random>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "analyses/circuits/activation_patching.h"
#include "analyses/circuits/patching_metric.h"
#include "analyses/circuits/task_pairs.h"
#include "core/base/error.h"
#include "hooks/head_interventions.h"
#include "tests/support/fixtures.h"
#include "tests/support/forward_bounds.h"

namespace headscope {
namespace {

using ::testing::HasSubstr;

std::shared_ptr<Transformer> load(const std::string& fixture) {
  return Transformer::load(test::fixture(fixture));
}

torch::Tensor tokens_of(const std::vector<int32_t>& ids) {
  return torch::tensor(std::vector<int64_t>(ids.begin(), ids.end()), torch::kInt64).view({1, -1});
}

// The slice of one site in a batch-1 tensor of hook `hook`, as a view.
torch::Tensor site_slice(torch::Tensor value, PatchHook hook, const PatchSite& site) {
  const bool pattern = hook == PatchHook::kPattern;
  const int64_t position_dim = pattern ? 2 : 1;
  const int64_t head_dim = pattern ? 1 : 2;
  if (site.position >= 0) value = value.narrow(position_dim, site.position, 1);
  if (site.head >= 0) value = value.narrow(head_dim, site.head, 1);
  return value;
}

struct Reference {
  torch::Tensor logits;  // [vocab] at the scored position
  torch::Tensor bound;   // [vocab]: two float32 forward passes agree within it
};

// One pair, one site, one forward pass of batch 1: the source run cached alone, the site's
// slice copied into the target run's activation.
Reference patch_one(HookedModel& model, const PatchingPair& pair, PatchHook hook,
                    const PatchSite& site, PatchDirection direction) {
  torch::NoGradGuard no_grad;
  const bool denoise = direction == PatchDirection::kDenoise;
  const ModelConfig& config = model.model().config();
  const std::string name = model.model().hook_names().name({site.layer, patch_hook_kind(hook)});
  ActivationCache cache;
  model.run_with_cache(tokens_of(denoise ? pair.clean : pair.corrupted), {name}, cache);
  const torch::Tensor source = cache.at(name);
  std::vector<HookedModel::HookId> ids;
  if (hook == PatchHook::kZ && site.position < 0 && site.head >= 0) {
    ids = apply_interventions(model, {patch_head(config, {site.layer, site.head}, source)});
  } else {
    ids.push_back(
        model.add_hook(name, [source, hook, site](const torch::Tensor& value, const HookContext&) {
          torch::Tensor out = value.clone();
          site_slice(out, hook, site).copy_(site_slice(source, hook, site));
          return std::optional<torch::Tensor>(out);
        }));
  }
  ActivationCache final_norm;
  const torch::Tensor logits = model.run_with_cache(
      tokens_of(denoise ? pair.corrupted : pair.clean), {"ln_final.hook_normalized"}, final_norm);
  for (const auto id : ids) model.remove_hook(id);
  const int64_t seq = static_cast<int64_t>(pair.clean.size());
  const torch::Tensor h = final_norm.at("ln_final.hook_normalized")[0][pair.position];
  return {logits[0][pair.position],
          test::tol::logits_bound(config, seq, h.view({1, -1}), model.model().weights().unembed)
              .view({-1})};
}

// Every per-sample value of the sweep equals the single patch's logit difference within the
// sum of the two logits' float32 bounds.
void expect_sweep_matches_single_patches(HookedModel& model, const std::vector<PatchingPair>& pairs,
                                         const PatchingOptions& options) {
  const PatchingResult result = activation_patching(model, pairs, options);
  const auto n_sites = static_cast<int64_t>(result.grid.sites.size());
  ASSERT_EQ(result.per_sample.size(), pairs.size() * result.grid.sites.size());
  for (size_t p = 0; p < pairs.size(); ++p) {
    for (int64_t s = 0; s < n_sites; ++s) {
      const PatchSite& site = result.grid.sites[static_cast<size_t>(s)];
      const Reference ref = patch_one(model, pairs[p], options.hook, site, options.direction);
      const double expected = ref.logits[pairs[p].answer].item<double>() -
                              ref.logits[pairs[p].distractor].item<double>();
      const double bound =
          ref.bound[pairs[p].answer].item<double>() + ref.bound[pairs[p].distractor].item<double>();
      EXPECT_NEAR(result.per_sample[p * static_cast<size_t>(n_sites) + static_cast<size_t>(s)],
                  expected, bound)
          << "hook " << patch_hook_name(options.hook) << " per "
          << patch_granularity_name(options.per) << " " << patch_direction_name(options.direction)
          << ", pair " << p << ", layer " << site.layer << " head " << site.head << " position "
          << site.position;
    }
  }
}

// Random pairs for a model without task vocabulary: equal lengths, two corrupted positions.
std::vector<PatchingPair> random_pairs(const ModelConfig& config, int64_t count, int64_t length) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int32_t> token(0, static_cast<int32_t>(config.vocab_size - 1));
  std::vector<PatchingPair> pairs;
  for (int64_t i = 0; i < count; ++i) {
    PatchingPair p;
    for (int64_t t = 0; t < length; ++t) p.clean.push_back(token(rng));
    p.corrupted = p.clean;
    p.corrupted[1] = token(rng);
    p.corrupted[static_cast<size_t>(length / 2)] = token(rng);
    p.answer = token(rng);
    p.distractor = token(rng);
    p.position = length - 1;
    p.source = "random pair " + std::to_string(i);
    pairs.push_back(p);
  }
  return pairs;
}

// IOI pairs of the zoo fixture that share the first pair's length (positions line up).
std::vector<PatchingPair> ioi_pairs_of_one_length(const ModelConfig& config, size_t count) {
  std::vector<PatchingPair> all = task_pairs(config, "ioi", 40, 64, 0);
  std::vector<PatchingPair> same;
  for (const PatchingPair& p : all) {
    if (p.clean.size() == all.front().clean.size() && same.size() < count) same.push_back(p);
  }
  return same;
}

TEST(ActivationPatching, ZooSweepsEqualSingleHeadPatchesThroughHooks) {
  auto model = load("zoo/ioi-2x4");
  HookedModel hooked(model);
  // Lengths differ among IOI templates: the sweep groups them.
  const std::vector<PatchingPair> pairs = task_pairs(model->config(), "ioi", 4, 64, 3);
  for (const PatchHook hook :
       {PatchHook::kZ, PatchHook::kQ, PatchHook::kV, PatchHook::kPattern, PatchHook::kResult}) {
    for (const PatchDirection direction : {PatchDirection::kDenoise, PatchDirection::kNoise}) {
      // Batch 5 straddles layers and pairs.
      expect_sweep_matches_single_patches(
          hooked, pairs,
          PatchingOptions().with_hook(hook).with_direction(direction).with_batch_size(5).with_quiet(
              true));
    }
  }
}

TEST(ActivationPatching, ZooPositionSweepsEqualSinglePatches) {
  auto model = load("zoo/ioi-2x4");
  HookedModel hooked(model);
  const std::vector<PatchingPair> pairs = ioi_pairs_of_one_length(model->config(), 2);
  ASSERT_EQ(pairs.size(), 2u);
  for (const auto& [hook, per] : std::vector<std::pair<PatchHook, PatchGranularity>>{
           {PatchHook::kZ, PatchGranularity::kHeadPosition},
           {PatchHook::kResidPre, PatchGranularity::kLayerPosition},
           {PatchHook::kAttnOut, PatchGranularity::kLayer},
           {PatchHook::kMlpOut, PatchGranularity::kLayerPosition}}) {
    expect_sweep_matches_single_patches(
        hooked, pairs,
        PatchingOptions().with_hook(hook).with_per(per).with_batch_size(7).with_quiet(true));
  }
}

TEST(ActivationPatching, GqaLlamaPatchesPerKeyValueHead) {
  auto model = load("hf-tiny/llama");
  const ModelConfig& config = model->config();
  ASSERT_LT(config.n_kv_heads, config.n_heads);
  HookedModel hooked(model);
  const std::vector<PatchingPair> pairs = random_pairs(config, 3, 10);
  for (const PatchHook hook : {PatchHook::kK, PatchHook::kV}) {
    const PatchGrid grid = patch_grid(config, hook, PatchGranularity::kHead, 10);
    EXPECT_EQ(grid.dims, (std::vector<std::string>{"layer", "kv_head"}));
    EXPECT_EQ(grid.shape, (std::vector<int64_t>{config.n_layers, config.n_kv_heads}));
  }
  for (const PatchHook hook : {PatchHook::kK, PatchHook::kV, PatchHook::kQ, PatchHook::kZ}) {
    for (const PatchGranularity per : {PatchGranularity::kHead, PatchGranularity::kHeadPosition}) {
      expect_sweep_matches_single_patches(
          hooked, pairs,
          PatchingOptions().with_hook(hook).with_per(per).with_batch_size(6).with_quiet(true));
    }
  }
}

// The logit difference's float32 bound for one unpatched run of `tokens`: the run recomputed in
// a batch of another size (another summation order) agrees within it.
double logit_diff_bound(HookedModel& model, const std::vector<int32_t>& tokens,
                        const PatchingPair& pair) {
  torch::NoGradGuard no_grad;
  ActivationCache cache;
  model.run_with_cache(tokens_of(tokens), {"ln_final.hook_normalized"}, cache);
  const torch::Tensor h = cache.at("ln_final.hook_normalized")[0][pair.position].view({1, -1});
  const torch::Tensor bound =
      test::tol::logits_bound(model.model().config(), static_cast<int64_t>(tokens.size()), h,
                              model.model().weights().unembed)
          .view({-1});
  return bound[pair.answer].item<double>() + bound[pair.distractor].item<double>();
}

// resid_pre of any layer at every position determines the rest of the pass: patching it whole
// turns the run into the source's. Denoise gives the clean metric (score 1), noise the
// corrupted one (score 0), each pair within its float32 bound.
TEST(ActivationPatching, WholeResidualPatchIsTheSourceRun) {
  auto model = load("zoo/ioi-2x4");
  HookedModel hooked(model);
  const std::vector<PatchingPair> pairs = task_pairs(model->config(), "ioi", 6, 64, 11);
  const int64_t layers = model->config().n_layers;
  for (const PatchDirection direction : {PatchDirection::kDenoise, PatchDirection::kNoise}) {
    const bool denoise = direction == PatchDirection::kDenoise;
    const PatchingResult r = activation_patching(hooked, pairs,
                                                 PatchingOptions()
                                                     .with_hook(PatchHook::kResidPre)
                                                     .with_per(PatchGranularity::kLayer)
                                                     .with_direction(direction)
                                                     .with_batch_size(4)
                                                     .with_quiet(true));
    const std::vector<double>& source = denoise ? r.clean_metric : r.corrupted_metric;
    double mean_bound = 0.0;
    for (size_t p = 0; p < pairs.size(); ++p) {
      const double bound =
          logit_diff_bound(hooked, denoise ? pairs[p].clean : pairs[p].corrupted, pairs[p]);
      mean_bound += bound / static_cast<double>(pairs.size());
      for (int64_t l = 0; l < layers; ++l) {
        EXPECT_NEAR(r.per_sample[p * static_cast<size_t>(layers) + static_cast<size_t>(l)],
                    source[p], bound)
            << patch_direction_name(direction) << " pair " << p << " layer " << l;
      }
    }
    for (int64_t l = 0; l < layers; ++l) {
      EXPECT_NEAR(r.scores[static_cast<size_t>(l)], denoise ? 1.0 : 0.0,
                  mean_bound / std::abs(r.clean_mean - r.corrupted_mean))
          << patch_direction_name(direction) << " layer " << l;
    }
  }
}

TEST(ActivationPatching, ScoresNormaliseTheMeanMetric) {
  auto model = load("zoo/ioi-2x4");
  HookedModel hooked(model);
  const std::vector<PatchingPair> pairs = task_pairs(model->config(), "ioi", 5, 64, 20);
  for (const PatchingMetric metric : {PatchingMetric::kLogitDiff, PatchingMetric::kProb,
                                      PatchingMetric::kLogProb, PatchingMetric::kKl}) {
    const PatchingResult r =
        activation_patching(hooked, pairs, PatchingOptions().with_metric(metric).with_quiet(true));
    const size_t sites = r.grid.sites.size();
    double clean = 0.0, corrupted = 0.0;
    for (size_t p = 0; p < pairs.size(); ++p)
      clean += r.clean_metric[p], corrupted += r.corrupted_metric[p];
    clean /= static_cast<double>(pairs.size());
    corrupted /= static_cast<double>(pairs.size());
    EXPECT_DOUBLE_EQ(r.clean_mean, clean);
    EXPECT_DOUBLE_EQ(r.corrupted_mean, corrupted);
    for (size_t s = 0; s < sites; ++s) {
      double patched = 0.0;
      for (size_t p = 0; p < pairs.size(); ++p) patched += r.per_sample[p * sites + s];
      patched /= static_cast<double>(pairs.size());
      EXPECT_NEAR(r.scores[s], (patched - corrupted) / (clean - corrupted), 1e-12)
          << patching_metric_name(metric) << " site " << s;
    }
    if (metric == PatchingMetric::kKl) {
      // -KL(clean || clean) is exactly 0; every other run is further from the clean one.
      for (size_t p = 0; p < pairs.size(); ++p) {
        EXPECT_EQ(r.clean_metric[p], 0.0);
        EXPECT_LT(r.corrupted_metric[p], 0.0);
      }
    }
    if (metric == PatchingMetric::kProb) {
      for (const double v : r.per_sample) EXPECT_TRUE(v >= 0.0 && v <= 1.0) << v;
    }
  }
}

TEST(PatchingMetric, ValuesOnHandMadeLogits) {
  const torch::Tensor logits = torch::tensor({{2.0, 0.0, -1.0}, {0.5, 0.5, 3.0}}, torch::kFloat32);
  const torch::Tensor answers = torch::tensor({0, 2}, torch::kInt64);
  const torch::Tensor distractors = torch::tensor({1, 0}, torch::kInt64);
  const torch::Tensor none;
  const torch::Tensor diff =
      patching_metric(PatchingMetric::kLogitDiff, logits, answers, distractors, none);
  EXPECT_EQ(diff.scalar_type(), torch::kFloat64);
  EXPECT_DOUBLE_EQ(diff[0].item<double>(), 2.0);
  EXPECT_DOUBLE_EQ(diff[1].item<double>(), 2.5);
  const double z0 = std::exp(2.0) + 1.0 + std::exp(-1.0);
  const torch::Tensor prob =
      patching_metric(PatchingMetric::kProb, logits, answers, distractors, none);
  EXPECT_NEAR(prob[0].item<double>(), std::exp(2.0) / z0, 1e-15);
  const torch::Tensor logprob =
      patching_metric(PatchingMetric::kLogProb, logits, answers, distractors, none);
  EXPECT_NEAR(logprob[0].item<double>(), 2.0 - std::log(z0), 1e-15);
  // -KL(p || q) by hand for row 0, p from the other row's logits.
  const torch::Tensor p_logits = logits.flip(0);
  const torch::Tensor clean = torch::log_softmax(p_logits.to(torch::kFloat64), 1);
  const torch::Tensor kl =
      patching_metric(PatchingMetric::kKl, logits, answers, distractors, clean);
  double expected = 0.0;
  const torch::Tensor q = torch::log_softmax(logits.to(torch::kFloat64), 1);
  for (int64_t v = 0; v < 3; ++v) {
    const double lp = clean[0][v].item<double>();
    expected += std::exp(lp) * (q[0][v].item<double>() - lp);
  }
  EXPECT_NEAR(kl[0].item<double>(), expected, 1e-15);
  EXPECT_EQ(patching_metric(PatchingMetric::kKl, logits, answers, distractors,
                            torch::log_softmax(logits.to(torch::kFloat64), 1))[1]
                .item<double>(),
            0.0);
}

TEST(ActivationPatching, RefusesWhatItCannotScore) {
  auto model = load("zoo/ioi-2x4");
  HookedModel hooked(model);
  const ModelConfig& config = model->config();
  // Induction has no distractor: the logit difference is refused naming the pair; prob works.
  const std::vector<PatchingPair> induction = task_pairs(config, "induction", 2, 21, 0);
  try {
    activation_patching(hooked, induction, PatchingOptions().with_quiet(true));
    ADD_FAILURE() << "logit-diff without a distractor was accepted";
  } catch (const InvalidInput& e) {
    EXPECT_THAT(e.what(), HasSubstr("induction sample 0 has no distractor"));
  }
  EXPECT_NO_THROW(activation_patching(
      hooked, induction, PatchingOptions().with_metric(PatchingMetric::kProb).with_quiet(true)));
  // resid_pre has no heads.
  try {
    patch_grid(config, PatchHook::kResidPre, PatchGranularity::kHead, 5);
    ADD_FAILURE() << "--per head of resid_pre was accepted";
  } catch (const InvalidInput& e) {
    EXPECT_THAT(e.what(), HasSubstr("hook resid_pre has no heads"));
  }
  // Positions need one length.
  std::vector<PatchingPair> mixed = task_pairs(config, "ioi", 30, 64, 0);
  try {
    activation_patching(
        hooked, mixed,
        PatchingOptions().with_per(PatchGranularity::kHeadPosition).with_quiet(true));
    ADD_FAILURE() << "positions of pairs of several lengths were accepted";
  } catch (const InvalidInput& e) {
    EXPECT_THAT(e.what(), HasSubstr("the same length"));
  }
  // A corruption the metric cannot see leaves nothing to normalise by.
  std::vector<PatchingPair> same = {mixed.front()};
  same.front().corrupted = same.front().clean;
  EXPECT_THROW(activation_patching(hooked, same, PatchingOptions().with_quiet(true)), InvalidInput);
}

}  // namespace
}  // namespace headscope
