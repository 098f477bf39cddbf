#include "analyses/snr/sparsity_snr.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <limits>
#include <map>
#include <numeric>
#include <string>
#include <utility>

#include "analyses/snr/routing_theory.h"
#include "core/base/error.h"
#include "core/base/progress_bar.h"
#include "dist/byte_codec.h"

namespace headscope {
namespace {

void check_increasing(const std::vector<int64_t>& values, const char* option) {
  if (values.empty()) throw InvalidInput(std::string(option) + ": give at least one value");
  for (size_t i = 0; i < values.size(); ++i) {
    if (values[i] < 1) {
      throw InvalidInput(std::string(option) + ": " + std::to_string(values[i]) +
                         " is not a positive integer");
    }
    if (i > 0 && values[i] <= values[i - 1]) {
      throw InvalidInput(std::string(option) + ": give increasing values (" +
                         std::to_string(values[i - 1]) + " then " + std::to_string(values[i]) +
                         ")");
    }
  }
}

// The accumulators of one run, filled layer by layer from the hooks.
class SnrCollector {
 public:
  SnrCollector(const ModelConfig& config, const std::vector<SnrQuery>& queries,
               const SnrOptions& options)
      : config_(config),
        queries_(queries),
        options_(options),
        keys_(static_cast<size_t>(config.n_layers * config.n_heads)),
        blocks_(keys_.size() * options.block_sizes.size()),
        query_delta_mu_(keys_.size() * queries.size(), std::numeric_limits<double>::quiet_NaN()) {}

  // A split run: the levels of `mine` (query indices, increasing) are kept, not added, until
  // add_gathered adds every process's in query order.
  void keep_levels(const std::vector<int64_t>& mine) {
    local_.assign(queries_.size(), -1);
    for (size_t k = 0; k < mine.size(); ++k) {
      local_[static_cast<size_t>(mine[k])] = static_cast<int64_t>(k);
    }
    key_levels_.assign(mine.size() * keys_.size(), KeyLevel{});
    block_levels_.assign(key_levels_.size() * options_.block_sizes.size(), BlockLevel{});
  }

  // Exchanges the kept levels, one item per sample run here (`run`; `ranges`: each sample's
  // queries), and adds every query's in query order, as one process adds them.
  void add_gathered(const WorkSplit& split, const std::vector<std::pair<size_t, size_t>>& ranges,
                    const std::vector<int64_t>& run) {
    const size_t slots = keys_.size(), n_blocks = options_.block_sizes.size();
    std::map<int64_t, std::string> mine;
    for (const int64_t s : run) {
      const auto [first, end] = ranges[static_cast<size_t>(s)];
      const auto at = static_cast<size_t>(local_[first]);
      ByteWriter item;
      item.put_vector(std::vector<KeyLevel>(key_levels_.begin() + at * slots,
                                            key_levels_.begin() + (at + end - first) * slots));
      item.put_vector(
          std::vector<BlockLevel>(block_levels_.begin() + at * slots * n_blocks,
                                  block_levels_.begin() + (at + end - first) * slots * n_blocks));
      mine[s] = item.bytes();
    }
    const std::vector<std::string> items =
        exchange_items(split, mine, static_cast<int64_t>(ranges.size()), "snr levels");
    for (size_t s = 0; s < items.size(); ++s) {
      const std::string what = "snr levels of sample " + std::to_string(s);
      ByteReader in(items[s], what);
      const auto keys = in.get_vector<KeyLevel>();
      const auto blocks = in.get_vector<BlockLevel>();
      const auto [first, end] = ranges[s];
      if (keys.size() != (end - first) * slots || blocks.size() != keys.size() * n_blocks) {
        throw IoError(what + ": " + std::to_string(keys.size()) + " levels for " +
                      std::to_string(end - first) + " queries");
      }
      for (size_t i = first; i < end; ++i) {
        for (size_t slot = 0; slot < slots; ++slot) {
          const size_t at = (i - first) * slots + slot;
          keys_[slot].add(keys[at]);
          if (keys[at].valid) query_delta_mu_[slot * queries_.size() + i] = keys[at].delta_mu;
          for (size_t b = 0; b < n_blocks; ++b) {
            blocks_[slot * n_blocks + b].add(blocks[at * n_blocks + b]);
          }
        }
      }
    }
  }

  // Scores of the queries of one sample at one layer: q [1, T, H, D], k [1, T, Hkv, D].
  void add_layer(int64_t layer, const torch::Tensor& q, const torch::Tensor& k, double scale,
                 size_t first, size_t end) {
    std::vector<int64_t> positions;
    for (size_t i = first; i < end; ++i) positions.push_back(queries_[i].position);
    const auto index = torch::tensor(positions, torch::kInt64).to(q.device());
    const auto qs = q[0].index_select(0, index).to(torch::kFloat32).transpose(0, 1);  // [H, Q, D]
    auto ks = k[0].to(torch::kFloat32).transpose(0, 1);                               // [Hkv, T, D]
    if (config_.n_kv_heads != config_.n_heads) {
      ks = ks.repeat_interleave(config_.kv_group_size(), 0);
    }
    const auto scores =
        (torch::bmm(qs, ks.transpose(1, 2)) * scale).to(torch::kCPU, torch::kFloat64).contiguous();
    const auto view = scores.accessor<double, 3>();
    std::vector<double> row;
    for (int64_t h = 0; h < config_.n_heads; ++h) {
      const auto slot = static_cast<size_t>(layer * config_.n_heads + h);
      for (size_t i = first; i < end; ++i) {
        const SnrQuery& query = queries_[i];
        const auto col = static_cast<int64_t>(i - first);
        row.assign(&view[h][col][0], &view[h][col][0] + query.position + 1);
        const KeyLevel key = key_level(row, query.relevant);
        const size_t n_blocks = options_.block_sizes.size();
        if (!local_.empty()) {
          const auto at = static_cast<size_t>(local_[i]) * keys_.size() + slot;
          key_levels_[at] = key;
          for (size_t b = 0; b < n_blocks; ++b) {
            block_levels_[at * n_blocks + b] =
                block_level(row, query.relevant, {options_.block_sizes[b], options_.key_conv});
          }
          continue;
        }
        keys_[slot].add(key);
        if (key.valid) query_delta_mu_[slot * queries_.size() + i] = key.delta_mu;
        for (size_t b = 0; b < n_blocks; ++b) {
          blocks_[slot * n_blocks + b].add(
              block_level(row, query.relevant, {options_.block_sizes[b], options_.key_conv}));
        }
      }
    }
  }

  SnrResult result() const {
    SnrResult r;
    r.layers = config_.n_layers;
    r.heads = config_.n_heads;
    r.kv_heads = config_.n_kv_heads;
    r.options = options_;
    r.queries = queries_;
    r.query_delta_mu = query_delta_mu_;
    const size_t n_blocks = options_.block_sizes.size();
    for (size_t slot = 0; slot < keys_.size(); ++slot) {
      r.delta_mu.push_back(keys_[slot].delta_mu());
      r.sigma.push_back(keys_[slot].sigma());
      for (size_t b = 0; b < n_blocks; ++b) {
        const BlockAccumulator& acc = blocks_[slot * n_blocks + b];
        r.summaries.push_back(acc.summary(options_.topk));
        r.snr_theory.push_back(
            snr_theory(r.delta_mu.back(), r.sigma.back(), options_.block_sizes[b]));
        HS_ASSERT(acc.ranks().size() == queries_.size());
        r.ranks.insert(r.ranks.end(), acc.ranks().begin(), acc.ranks().end());
      }
    }
    return r;
  }

 private:
  const ModelConfig& config_;
  const std::vector<SnrQuery>& queries_;
  const SnrOptions& options_;
  std::vector<KeyAccumulator> keys_;      // [layer, head]
  std::vector<BlockAccumulator> blocks_;  // [layer, head, block size]
  std::vector<double> query_delta_mu_;    // [layer, head, query]
  // A split run: each query's position among this process's (keep_levels; -1: not here), and
  // their levels [query, layer, head] and [query, layer, head, block size].
  std::vector<int64_t> local_;
  std::vector<KeyLevel> key_levels_;
  std::vector<BlockLevel> block_levels_;
};

}  // namespace

void check_snr_options(const SnrOptions& options, const std::vector<SnrQuery>& queries) {
  check_increasing(options.block_sizes, "--block-sizes");
  check_increasing(options.topk, "--topk-blocks");
  if (options.key_conv < 1) {
    throw InvalidInput("--key-conv: " + std::to_string(options.key_conv) +
                       " is below 1 (1 = no smoothing)");
  }
  HS_ASSERT(!queries.empty());
  int64_t last = 0;
  for (const SnrQuery& q : queries) last = std::max(last, q.position);
  for (const int64_t size : options.block_sizes) {
    const bool any = std::any_of(queries.begin(), queries.end(), [&](const SnrQuery& q) {
      return routable(q.position, q.relevant, {size, options.key_conv});
    });
    if (!any) {
      throw InvalidInput(
          "--block-sizes: block size " + std::to_string(size) + " routes none of the " +
          std::to_string(queries.size()) + " queries (the last at position " +
          std::to_string(last) +
          "; a query needs its relevant key before its own block and another block to "
          "compare): give a longer --length or smaller block sizes");
    }
  }
}

SnrResult sparsity_snr(HookedModel& model, const std::vector<TaskSample>& samples,
                       const std::vector<SnrQuery>& queries, const SnrOptions& options) {
  return sparsity_snr(model, samples, queries, options, WorkSplit{});
}

SnrResult sparsity_snr(HookedModel& model, const std::vector<TaskSample>& samples,
                       const std::vector<SnrQuery>& queries, const SnrOptions& options,
                       const WorkSplit& split) {
  check_snr_options(options, queries);
  const auto start = std::chrono::steady_clock::now();
  const Transformer& transformer = model.model();
  const ModelConfig& config = transformer.config();
  const double scale = transformer.attention_scale();
  const HookNames& names = transformer.hook_names();
  SnrCollector collector(config, queries, options);

  // Each sample's queries [first, end).
  std::vector<std::pair<size_t, size_t>> ranges;
  for (size_t s = 0, first = 0; s < samples.size(); ++s) {
    size_t end = first;
    while (end < queries.size() && queries[end].sample == static_cast<int64_t>(s)) ++end;
    HS_ASSERT(end > first);
    ranges.emplace_back(first, end);
    first = end;
  }
  HS_ASSERT(ranges.empty() || ranges.back().second == queries.size());
  // A split runs its share of the samples (cost: length) and keeps their queries' levels.
  std::vector<int64_t> run(samples.size());
  std::iota(run.begin(), run.end(), int64_t{0});
  if (split.active()) {
    std::vector<double> costs;
    for (const TaskSample& sample : samples)
      costs.push_back(static_cast<double>(sample.tokens.size()));
    run = split.share(costs);
    std::sort(run.begin(), run.end());
    std::vector<int64_t> mine;
    for (const int64_t s : run) {
      for (size_t i = ranges[static_cast<size_t>(s)].first;
           i < ranges[static_cast<size_t>(s)].second; ++i) {
        mine.push_back(static_cast<int64_t>(i));
      }
    }
    collector.keep_levels(mine);
  }

  ProgressBar bar("snr", static_cast<int64_t>(run.size()), options.quiet);
  for (const int64_t sample : run) {
    const auto s = static_cast<size_t>(sample);
    const size_t first = ranges[s].first, end = ranges[s].second;
    torch::Tensor pending_q;
    ScopedHooks hooks(model);
    for (int64_t layer = 0; layer < config.n_layers; ++layer) {
      hooks.add(HookPoint{layer, names.scored_q()},
                [&](const torch::Tensor& q, const HookContext&) {
                  pending_q = q.detach();
                  return std::nullopt;
                });
      hooks.add(HookPoint{layer, names.scored_k()},
                [&, layer](const torch::Tensor& k, const HookContext&) {
                  collector.add_layer(layer, pending_q, k.detach(), scale, first, end);
                  pending_q = torch::Tensor();
                  return std::nullopt;
                });
    }
    const std::vector<int32_t>& ids = samples[s].tokens;
    const auto tokens = torch::tensor(std::vector<int64_t>(ids.begin(), ids.end()), torch::kInt64)
                            .unsqueeze(0)
                            .to(transformer.device());
    torch::NoGradGuard no_grad;
    model.forward(tokens, nullptr, LogitPositions::kNone);
    bar.advance();
  }
  if (split.active()) collector.add_gathered(split, ranges, run);
  SnrResult r = collector.result();
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

}  // namespace headscope
