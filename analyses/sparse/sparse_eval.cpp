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

void combine_sparse_eval_rows(std::vector<SparseEvalRow>& into,
                              const std::vector<SparseEvalRow>& part) {
  HS_ASSERT(part.empty() || part.size() == into.size());
  for (size_t i = 0; i < part.size(); ++i) {
    SparseEvalRow& row = into[i];
    const SparseEvalRow& other = part[i];
    HS_ASSERT(row.config == other.config && row.length == other.length);
    row.samples += other.samples;
    row.correct += other.correct;
    row.answer_tokens += other.answer_tokens;
    row.answer_tokens_right += other.answer_tokens_right;
    if (other.measured_kept) {
      row.kept_fraction = other.kept_fraction;
      row.measured_kept = true;
    }
  }
  for (SparseEvalRow& row : into) {
    row.accuracy = row.samples > 0 ? static_cast<double>(row.correct) /
                                         static_cast<double>(row.samples)
                                   : 0.0;
    row.token_accuracy = row.answer_tokens > 0 ? static_cast<double>(row.answer_tokens_right) /
                                                     static_cast<double>(row.answer_tokens)
                                               : 0.0;
  }
}

SparseEvalResult evaluate_sparse_configs(std::shared_ptr<const Transformer> model,
                                         const std::vector<NamedSparseConfig>& configs,
                                         const SparseEvalOptions& o) {
  check_options(o, configs, *model);
  torch::NoGradGuard no_grad;
  HookedModel hooked(model);
  SparseEvalResult result;
  std::vector<std::vector<TaskSample>> samples;
  for (int64_t length : o.lengths) samples.push_back(make_samples(o, length));
  // Units: each length's batches, in length then batch order.
  std::vector<std::vector<std::pair<size_t, size_t>>> length_batches;
  std::vector<double> costs;
  for (size_t li = 0; li < o.lengths.size(); ++li) {
    length_batches.push_back(batches(samples[li], o.batch_size));
    for (const auto& [first, last] : length_batches.back()) {
      costs.push_back(static_cast<double>(last - first) * static_cast<double>(o.lengths[li]));
    }
  }
  std::vector<uint8_t> mine(costs.size(), o.share ? 0 : 1);
  if (o.share) {
    for (const int64_t unit : o.share(costs)) mine.at(static_cast<size_t>(unit)) = 1;
  }
  ProgressBar progress(
      "sparse-eval", static_cast<int64_t>(configs.size() * o.lengths.size()) * o.samples, o.quiet);
  for (const auto& named : configs) {
    ScopedSparseAttention sparse(hooked, named.config);
    size_t unit = 0;
    for (size_t li = 0; li < o.lengths.size(); ++li) {
      const auto& set = samples[li];
      SparseEvalRow row;
      row.config = named.name;
      row.sparse_heads = named.config.sparse_head_fraction();
      row.length = o.lengths[li];
      for (size_t bi = 0; bi < length_batches[li].size(); ++bi, ++unit) {
        if (mine[unit] == 0) continue;
        const auto [first, last] = length_batches[li][bi];
        const int64_t n = static_cast<int64_t>(last - first);
        const int64_t T = static_cast<int64_t>(set[first].tokens.size());
        auto ids = torch::empty({n, T}, torch::kInt64);
        for (int64_t b = 0; b < n; ++b) {
          const auto& t = set[first + static_cast<size_t>(b)].tokens;
          for (int64_t p = 0; p < T; ++p) ids[b][p] = t[static_cast<size_t>(p)];
        }
        // The kept fraction depends on the config and length only (block-sparse keeps the same
        // number of blocks whatever it picks), so the first batch measures it.
        const bool first_batch = bi == 0;
        sparse.reset_counters();
        sparse.measure_kept(first_batch);
        auto predicted = hooked.forward(ids).argmax(-1).cpu();
        if (sparse.layers_attended() != model->config().n_layers) {
          throw UnsupportedModel(
              "sparse-eval: the model ran " + std::to_string(sparse.layers_attended()) + " of " +
              std::to_string(model->config().n_layers) + " layers through the sparse config");
        }
        if (first_batch) {
          row.kept_fraction = sparse.kept_fraction();
          row.measured_kept = true;
        }
        auto pred = predicted.accessor<int64_t, 2>();
        for (int64_t b = 0; b < n; ++b) {
          const auto& s = set[first + static_cast<size_t>(b)];
          int64_t right = 0;
          for (int64_t t = s.answer_begin; t < s.answer_end; ++t) {
            right += pred[b][t - 1] == s.tokens[static_cast<size_t>(t)] ? 1 : 0;
          }
          row.correct += right == s.answer_end - s.answer_begin ? 1 : 0;
          row.answer_tokens_right += right;
          row.answer_tokens += s.answer_end - s.answer_begin;
        }
        row.samples += n;
        progress.advance(n, named.name + " @ " + std::to_string(row.length));
      }
      result.rows.push_back(row);
    }
  }
  combine_sparse_eval_rows(result.rows, {});
  result.samples = std::move(samples);
  return result;
}

}  // namespace headscope
