#include "analyses/ablation/head_ablation.h"

#include <map>
#include <set>

#include <torch/torch.h>

#include "analyses/ablation/evaluation_samples.h"
#include "analyses/ablation/head_selection.h"
#include "analyses/tasks/score_shards.h"
#include "analyses/tasks/vocabulary.h"
#include "core/base/error.h"
#include "core/base/progress_bar.h"
#include "hooks/hooked_model.h"

namespace headscope {
namespace {

std::string z_hook(int64_t layer) {
  return "blocks." + std::to_string(layer) + ".attn.hook_z";
}

void check_options(const AblationOptions& options) {
  check_task_name(options.task);
  if (options.batch_size < 1) {
    throw InvalidInput("batch size: expected at least 1, got " +
                       std::to_string(options.batch_size));
  }
  switch (options.method) {
    case HeadInterventionKind::kZero:
    case HeadInterventionKind::kMean:
    case HeadInterventionKind::kUniform:
    case HeadInterventionKind::kNegInfKeys:
      return;
    default:
      throw InvalidInput(std::string("ablation method ") + intervention_name(options.method) +
                         " is not one of zero, mean, uniform, neg-inf");
  }
}

// Mean of each head's hook_z over the real (unpadded) positions of `reference`, [d_head].
std::map<std::pair<int64_t, int64_t>, torch::Tensor> head_means(
    const std::shared_ptr<const Transformer>& model, const std::vector<HeadRef>& heads,
    const std::vector<TaskSample>& reference, int64_t batch_size) {
  torch::NoGradGuard no_grad;
  HookedModel hooked(model);
  std::set<int64_t> layers;
  for (const HeadRef& h : heads) layers.insert(h.layer);
  std::vector<std::string> filters;
  for (int64_t layer : layers) filters.push_back(z_hook(layer));

  const ModelConfig& c = model->config();
  std::map<std::pair<int64_t, int64_t>, torch::Tensor> sums;
  for (const HeadRef& h : heads)
    sums[{h.layer, h.head}] = torch::zeros({c.d_head}, torch::kFloat64);
  int64_t positions = 0;
  for (size_t first = 0; first < reference.size(); first += static_cast<size_t>(batch_size)) {
    const size_t last = std::min(reference.size(), first + static_cast<size_t>(batch_size));
    const std::vector<TaskSample> chunk(reference.begin() + first, reference.begin() + last);
    const auto tokens = pad_samples(chunk, Vocabulary::builtin().pad());
    auto real = torch::zeros({tokens.size(0), tokens.size(1)}, torch::kFloat64);
    for (size_t b = 0; b < chunk.size(); ++b) {
      real[static_cast<int64_t>(b)]
          .narrow(0, 0, static_cast<int64_t>(chunk[b].tokens.size()))
          .fill_(1.0);
      positions += static_cast<int64_t>(chunk[b].tokens.size());
    }
    ActivationCache cache;
    hooked.run_with_cache(tokens.to(model->device()), filters, cache);
    for (auto& [key, sum] : sums) {
      const auto z = cache.at(z_hook(key.first)).select(2, key.second).to(torch::kFloat64).cpu();
      sum += (z * real.unsqueeze(-1)).sum(std::vector<int64_t>{0, 1});
    }
  }
  for (auto& [key, sum] : sums) sum = (sum / static_cast<double>(positions)).to(torch::kFloat32);
  return sums;
}

// Keys before the answer holding one of the answer's tokens: where the answer comes from.
std::vector<int64_t> answer_source_keys(const TaskSample& s) {
  const std::set<int32_t> answer(s.tokens.begin() + s.answer_begin,
                                 s.tokens.begin() + s.answer_end);
  std::vector<int64_t> keys;
  for (int64_t p = 0; p < s.answer_begin; ++p) {
    if (answer.count(s.tokens[static_cast<size_t>(p)]) != 0) keys.push_back(p);
  }
  return keys;
}

// A LogitsFn that advances a progress bar per batch.
LogitsFn with_progress(LogitsFn inner, ProgressBar& bar) {
  return [inner = std::move(inner), &bar](const torch::Tensor& tokens,
                                          const std::vector<TaskSample>& batch) {
    auto logits = inner(tokens, batch);
    bar.advance(static_cast<int64_t>(batch.size()));
    return logits;
  };
}

TaskScore score_ablated_with(const std::shared_ptr<const Transformer>& model,
                             const std::vector<HeadRef>& heads,
                             const std::vector<TaskSample>& samples, const AblationOptions& options,
                             ProgressBar& bar) {
  const ModelConfig& c = model->config();
  const int64_t pad = Vocabulary::builtin().pad();
  HookedModel hooked(model);
  if (options.method == HeadInterventionKind::kNegInfKeys) {
    // The masked keys differ per sample: one sample per forward pass.
    const LogitsFn masked = [&](const torch::Tensor& tokens, const std::vector<TaskSample>& batch) {
      HS_ASSERT(batch.size() == 1);
      const std::vector<int64_t> keys = answer_source_keys(batch[0]);
      ScopedHooks scoped(hooked);
      for (const HeadRef& h : heads) {
        const Intervention i = mask_keys(c, h, keys);
        scoped.add(i.hook, i.fn);
      }
      return hooked.forward(tokens);
    };
    return score_samples(with_progress(masked, bar), model->device(), samples, pad, 1);
  }
  std::vector<Intervention> list;
  if (options.method == HeadInterventionKind::kMean) {
    const std::vector<TaskSample> reference =
        evaluation_samples(c, options.task, options.samples, options.length,
                           options.seed + static_cast<uint64_t>(options.samples));
    const auto means = head_means(model, heads, reference, options.batch_size);
    for (const HeadRef& h : heads) list.push_back(mean_head(c, h, means.at({h.layer, h.head})));
  } else {
    for (const HeadRef& h : heads) {
      list.push_back(options.method == HeadInterventionKind::kZero ? zero_head(c, h)
                                                                   : uniform_attention(c, h));
    }
  }
  ScopedHooks scoped(hooked);
  for (const Intervention& i : list) scoped.add(i.hook, i.fn);
  return score_samples(with_progress(hooked_logits(hooked), bar), model->device(), samples, pad,
                       options.batch_size);
}

TaskScore score_plain(const std::shared_ptr<const Transformer>& model,
                      const std::vector<TaskSample>& samples, const AblationOptions& options,
                      ProgressBar& bar) {
  const LogitsFn plain = [&model](const torch::Tensor& tokens, const std::vector<TaskSample>&) {
    return model->forward(tokens);
  };
  return score_samples(with_progress(plain, bar), model->device(), samples,
                       Vocabulary::builtin().pad(), options.batch_size);
}

void check_heads(const ModelConfig& c, const std::vector<HeadRef>& heads) {
  for (const HeadRef& h : heads) {
    if (h.layer < 0 || h.layer >= c.n_layers || h.head < 0 || h.head >= c.n_heads) {
      throw InvalidInput("head " + std::to_string(h.layer) + "." + std::to_string(h.head) +
                         " does not exist: the model has " + std::to_string(c.n_layers) +
                         " layers x " + std::to_string(c.n_heads) + " heads");
    }
  }
}

}  // namespace

TaskScore score_ablated(const std::shared_ptr<const Transformer>& model,
                        const std::vector<HeadRef>& heads, const std::vector<TaskSample>& samples,
                        const AblationOptions& options) {
  check_options(options);
  check_heads(model->config(), heads);
  ProgressBar bar("ablate", static_cast<int64_t>(samples.size()), options.quiet);
  return score_ablated_with(model, heads, samples, options, bar);
}

AblationResult ablate_heads(const std::shared_ptr<const Transformer>& model,
                            const std::vector<HeadRef>& heads, const AblationOptions& options) {
  check_options(options);
  check_heads(model->config(), heads);
  std::vector<TaskSample> samples = evaluation_samples(
      model->config(), options.task, options.samples, options.length, options.seed);
  if (options.only_samples) samples = select_samples(samples, *options.only_samples);
  ProgressBar bar("ablate " + options.task, 2 * static_cast<int64_t>(samples.size()),
                  options.quiet);
  AblationResult result;
  result.heads = heads;
  result.baseline = score_plain(model, samples, options, bar);
  result.ablated = score_ablated_with(model, heads, samples, options, bar);
  result.samples = samples;
  return result;
}

AblationCheck check_top_against_random(const std::shared_ptr<const Transformer>& model,
                                       const torch::Tensor& scores, int64_t k, int64_t exclude_top,
                                       int64_t draws, const AblationOptions& options) {
  check_options(options);
  const ModelConfig& c = model->config();
  if (k < 1) throw InvalidInput("top K: expected K >= 1, got " + std::to_string(k));
  if (draws < 0) throw InvalidInput("random draws: expected >= 0, got " + std::to_string(draws));
  if (scores.dim() != 2 || scores.size(0) != c.n_layers || scores.size(1) != c.n_heads) {
    throw InvalidInput("head scores must be [" + std::to_string(c.n_layers) + ", " +
                       std::to_string(c.n_heads) + "] [layer, head] for this model");
  }
  AblationCheck check;
  check.top = top_heads(scores, k);
  const std::vector<HeadRef> excluded = top_heads(scores, exclude_top);
  for (int64_t d = 0; d < draws; ++d) {
    check.random.push_back(random_heads(c, k, options.seed + static_cast<uint64_t>(d), excluded));
  }
  const std::vector<TaskSample> samples =
      evaluation_samples(c, options.task, options.samples, options.length, options.seed);
  ProgressBar bar("ablation check " + options.task, (2 + draws) * options.samples, options.quiet);
  check.baseline = score_plain(model, samples, options, bar);
  check.top_ablated = score_ablated_with(model, check.top, samples, options, bar);
  for (const auto& heads : check.random) {
    check.random_ablated.push_back(score_ablated_with(model, heads, samples, options, bar));
  }
  return check;
}

}  // namespace headscope
