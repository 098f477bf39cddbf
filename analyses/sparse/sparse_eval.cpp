#include "analyses/sparse/sparse_eval.h"

#include <algorithm>

#include <torch/torch.h>

#include "analyses/sparse/sparse_attention_scope.h"
#include "analyses/tasks/generate_task.h"
#include "core/base/error.h"
#include "core/base/progress_bar.h"
#include "hooks/hooked_model.h"

namespace headscope {
namespace {

void check_options(const SparseEvalOptions& o, const std::vector<NamedSparseConfig>& configs,
                   const Transformer& model) {
  const auto& names = task_names();
  if (std::find(names.begin(), names.end(), o.task) == names.end()) {
    std::string valid;
    for (const auto& n : names) valid += (valid.empty() ? "" : ", ") + n;
    throw InvalidInput("--task: unknown task '" + o.task + "' (expected one of " + valid + ")");
  }
  if (o.samples < 1) throw InvalidInput("--n: expected at least 1 sample");
  if (o.batch_size < 1) throw InvalidInput("--batch: expected at least 1");
  if (o.lengths.empty()) throw InvalidInput("--length: expected at least one length");
  for (int64_t length : o.lengths) {
    if (length < 2) throw InvalidInput("--length: " + std::to_string(length) + " is too short");
    const auto& c = model.config();
    if (c.sliding_window && length > *c.sliding_window) {
      throw UnsupportedModel("--length: " + std::to_string(length) +
                             " tokens exceed the model's sliding window of " +
                             std::to_string(*c.sliding_window) +
                             "; sparse configs run on plain causal attention only");
    }
  }
  if (configs.empty()) throw InvalidInput("sparse-eval: no config to evaluate");
  for (const auto& c : configs) check_config_matches_model(c.config, model.config(), c.name);
}

std::vector<TaskSample> make_samples(const SparseEvalOptions& o, int64_t length) {
  std::vector<TaskSample> samples;
  for (int64_t i = 0; i < o.samples; ++i) {
    // Depths spread evenly over the context, as the needle grid does.
    const double depth = (static_cast<double>(i) + 0.5) / static_cast<double>(o.samples);
    samples.push_back(generate_task(
        o.task,
        TaskOptions().with_seed(o.seed * 1000003 + i).with_length(length).with_depth(depth)));
  }
  return samples;
}

// Consecutive samples of equal token length, at most batch_size each (no padding needed).
std::vector<std::pair<size_t, size_t>> batches(const std::vector<TaskSample>& s, int64_t size) {
  std::vector<std::pair<size_t, size_t>> out;
  for (size_t first = 0; first < s.size();) {
    size_t last = first + 1;
    while (last < s.size() && last - first < static_cast<size_t>(size) &&
           s[last].tokens.size() == s[first].tokens.size()) {
      ++last;
    }
    out.emplace_back(first, last);
    first = last;
  }
  return out;
}

}  // namespace

SparseEvalResult evaluate_sparse_configs(std::shared_ptr<const Transformer> model,
                                         const std::vector<NamedSparseConfig>& configs,
                                         const SparseEvalOptions& o) {
  check_options(o, configs, *model);
  torch::NoGradGuard no_grad;
  HookedModel hooked(model);
  SparseEvalResult result;
  std::vector<std::vector<TaskSample>> samples;
  for (int64_t length : o.lengths) samples.push_back(make_samples(o, length));
  ProgressBar progress(
      "sparse-eval", static_cast<int64_t>(configs.size() * o.lengths.size()) * o.samples, o.quiet);
  for (const auto& named : configs) {
    ScopedSparseAttention sparse(hooked, named.config);
    for (size_t li = 0; li < o.lengths.size(); ++li) {
      const auto& set = samples[li];
      SparseEvalRow row;
      row.config = named.name;
      row.sparse_heads = named.config.sparse_head_fraction();
      row.length = o.lengths[li];
      row.samples = static_cast<int64_t>(set.size());
      int64_t correct = 0, tokens = 0, tokens_right = 0;
      bool first_batch = true;
      for (const auto& [first, last] : batches(set, o.batch_size)) {
        const int64_t n = static_cast<int64_t>(last - first);
        const int64_t T = static_cast<int64_t>(set[first].tokens.size());
        auto ids = torch::empty({n, T}, torch::kInt64);
        for (int64_t b = 0; b < n; ++b) {
          const auto& t = set[first + static_cast<size_t>(b)].tokens;
          for (int64_t p = 0; p < T; ++p) ids[b][p] = t[static_cast<size_t>(p)];
        }
        // The kept fraction depends on the config and length only (block-sparse keeps the same
        // number of blocks whatever it picks), so one batch measures it.
        sparse.reset_counters();
        sparse.measure_kept(first_batch);
        auto predicted = hooked.forward(ids).argmax(-1).cpu();
        if (sparse.layers_attended() != model->config().n_layers) {
          throw UnsupportedModel(
              "sparse-eval: the model ran " + std::to_string(sparse.layers_attended()) + " of " +
              std::to_string(model->config().n_layers) + " layers through the sparse config");
        }
        if (first_batch) row.kept_fraction = sparse.kept_fraction();
        first_batch = false;
        auto pred = predicted.accessor<int64_t, 2>();
        for (int64_t b = 0; b < n; ++b) {
          const auto& s = set[first + static_cast<size_t>(b)];
          int64_t right = 0;
          for (int64_t t = s.answer_begin; t < s.answer_end; ++t) {
            right += pred[b][t - 1] == s.tokens[static_cast<size_t>(t)] ? 1 : 0;
          }
          correct += right == s.answer_end - s.answer_begin ? 1 : 0;
          tokens_right += right;
          tokens += s.answer_end - s.answer_begin;
        }
        progress.advance(n, named.name + " @ " + std::to_string(row.length));
      }
      row.accuracy = static_cast<double>(correct) / static_cast<double>(row.samples);
      row.token_accuracy =
          tokens > 0 ? static_cast<double>(tokens_right) / static_cast<double>(tokens) : 0.0;
      result.rows.push_back(row);
    }
  }
  result.samples = std::move(samples);
  return result;
}

}  // namespace headscope
