#include "analyses/circuits/activation_patching.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>

#include <torch/torch.h>

#include "analyses/circuits/patching_runs.h"
#include "core/base/error.h"
#include "core/base/progress_bar.h"
#include "core/model/memory_estimate.h"
#include "dist/byte_codec.h"

namespace headscope {
namespace {

// Where a hook's tensor keeps its heads and positions: [B, T, H, D] for q, k, v, z, result
// ([B, T, H, d_model]), [B, H, T, T] for pattern, [B, T, d_model] for the rest (no heads: -1).
struct HookLayout {
  int64_t head_dim = -1;
  int64_t position_dim = 1;
  int64_t heads = 0;
  // Elements per position of one sequence in one layer.
  int64_t per_position = 0;
};

HookLayout hook_layout(const ModelConfig& c, PatchHook hook, int64_t positions) {
  switch (hook) {
    case PatchHook::kZ:
    case PatchHook::kQ:
      return {2, 1, c.n_heads, c.n_heads * c.d_head};
    case PatchHook::kK:
    case PatchHook::kV:
      return {2, 1, c.n_kv_heads, c.n_kv_heads * c.d_head};
    case PatchHook::kResult:
      return {2, 1, c.n_heads, c.n_heads * c.d_model};
    case PatchHook::kPattern:
      return {1, 2, c.n_heads, c.n_heads * positions};
    case PatchHook::kAttnOut:
    case PatchHook::kMlpOut:
    case PatchHook::kResidPre:
      return {-1, 1, 0, c.d_model};
  }
  HS_ASSERT(false && "unhandled patch hook");
}

// Bool mask over the patched rows' tensor at one layer: true where row i takes the source.
torch::Tensor site_mask(const HookLayout& layout, const std::vector<int64_t>& value_shape,
                        const std::vector<const PatchSite*>& sites) {
  std::vector<int64_t> shape(value_shape.size(), 1);
  shape[0] = static_cast<int64_t>(sites.size());
  shape[static_cast<size_t>(layout.position_dim)] =
      value_shape[static_cast<size_t>(layout.position_dim)];
  if (layout.head_dim >= 0) shape[static_cast<size_t>(layout.head_dim)] = layout.heads;
  auto mask = torch::zeros(shape, torch::kBool);
  for (size_t i = 0; i < sites.size(); ++i) {
    torch::Tensor m = mask[static_cast<int64_t>(i)];
    if (sites[i]->position >= 0) m = m.narrow(layout.position_dim - 1, sites[i]->position, 1);
    if (sites[i]->head >= 0) m = m.narrow(layout.head_dim - 1, sites[i]->head, 1);
    m.fill_(true);
  }
  return mask;
}

void check_pairs(const std::vector<PatchingPair>& pairs, const PatchingOptions& o) {
  check_patching_pairs(pairs, o.metric, "activation patching");
  const bool by_position =
      o.per == PatchGranularity::kHeadPosition || o.per == PatchGranularity::kLayerPosition;
  for (const PatchingPair& p : pairs) {
    if (by_position && p.clean.size() != pairs.front().clean.size()) {
      throw InvalidInput("--per " + std::string(patch_granularity_name(o.per)) +
                         ": every pair needs the same length to share a position axis; " +
                         pairs.front().source + " has " +
                         std::to_string(pairs.front().clean.size()) + " tokens, " + p.source + " " +
                         std::to_string(p.clean.size()));
    }
  }
}

}  // namespace

const char* patch_hook_name(PatchHook hook) {
  switch (hook) {
    case PatchHook::kZ:
      return "z";
    case PatchHook::kPattern:
      return "pattern";
    case PatchHook::kQ:
      return "q";
    case PatchHook::kK:
      return "k";
    case PatchHook::kV:
      return "v";
    case PatchHook::kResult:
      return "result";
    case PatchHook::kAttnOut:
      return "attn_out";
    case PatchHook::kMlpOut:
      return "mlp_out";
    case PatchHook::kResidPre:
      return "resid_pre";
  }
  HS_ASSERT(false && "unhandled patch hook");
}

const char* patch_granularity_name(PatchGranularity per) {
  switch (per) {
    case PatchGranularity::kHead:
      return "head";
    case PatchGranularity::kHeadPosition:
      return "head-position";
    case PatchGranularity::kLayer:
      return "layer";
    case PatchGranularity::kLayerPosition:
      return "layer-position";
  }
  HS_ASSERT(false && "unhandled patch granularity");
}

const char* patch_direction_name(PatchDirection direction) {
  return direction == PatchDirection::kDenoise ? "denoise" : "noise";
}

HookKind patch_hook_kind(PatchHook hook) {
  switch (hook) {
    case PatchHook::kZ:
      return HookKind::kZ;
    case PatchHook::kPattern:
      return HookKind::kPattern;
    case PatchHook::kQ:
      return HookKind::kQ;
    case PatchHook::kK:
      return HookKind::kK;
    case PatchHook::kV:
      return HookKind::kV;
    case PatchHook::kResult:
      return HookKind::kResult;
    case PatchHook::kAttnOut:
      return HookKind::kAttnOut;
    case PatchHook::kMlpOut:
      return HookKind::kMlpOut;
    case PatchHook::kResidPre:
      return HookKind::kResidPre;
  }
  HS_ASSERT(false && "unhandled patch hook");
}

PatchGrid patch_grid(const ModelConfig& config, PatchHook hook, PatchGranularity per,
                     int64_t positions) {
  const HookLayout layout = hook_layout(config, hook, positions);
  const bool heads = per == PatchGranularity::kHead || per == PatchGranularity::kHeadPosition;
  const bool by_position =
      per == PatchGranularity::kHeadPosition || per == PatchGranularity::kLayerPosition;
  if (heads && layout.head_dim < 0) {
    throw InvalidInput("--per " + std::string(patch_granularity_name(per)) + ": hook " +
                       patch_hook_name(hook) +
                       " has no heads; use --per layer or --per layer-position");
  }
  PatchGrid grid;
  grid.dims = {"layer"};
  grid.shape = {config.n_layers};
  if (heads) {
    const bool kv = hook == PatchHook::kK || hook == PatchHook::kV;
    grid.dims.push_back(kv ? "kv_head" : "head");
    grid.shape.push_back(layout.heads);
  }
  if (by_position) {
    grid.dims.push_back("position");
    grid.shape.push_back(positions);
  }
  for (int64_t l = 0; l < config.n_layers; ++l) {
    for (int64_t h = 0; h < (heads ? layout.heads : 1); ++h) {
      for (int64_t p = 0; p < (by_position ? positions : 1); ++p) {
        grid.sites.push_back({l, heads ? h : -1, by_position ? p : -1});
      }
    }
  }
  return grid;
}

PatchingResult activation_patching(HookedModel& model, const std::vector<PatchingPair>& pairs,
                                   const PatchingOptions& o) {
  return activation_patching(model, pairs, o, WorkSplit{});
}

PatchingResult activation_patching(HookedModel& model, const std::vector<PatchingPair>& pairs,
                                   const PatchingOptions& o, const WorkSplit& split) {
  const auto start = std::chrono::steady_clock::now();
  check_pairs(pairs, o);
  torch::NoGradGuard no_grad;
  const Transformer& net = model.model();
  const ModelConfig& config = net.config();
  const torch::Device device = net.device();
  const HookKind kind = patch_hook_kind(o.hook);
  const auto n = static_cast<int64_t>(pairs.size());
  int64_t longest = 0;
  for (const PatchingPair& p : pairs) longest = std::max<int64_t>(longest, p.clean.size());

  PatchingResult result;
  result.grid = patch_grid(config, o.hook, o.per, static_cast<int64_t>(pairs.front().clean.size()));
  const std::vector<PatchSite>& sites = result.grid.sites;
  const auto n_sites = static_cast<int64_t>(sites.size());

  // Memory: the source activations of every pair and layer stay cached through the sweep; each
  // row of a batch needs a forward pass and its patched slice gathered from the cache.
  const auto element = static_cast<double>(torch::elementSize(net.dtype()));
  double cache_bytes = 0.0;
  for (const PatchingPair& p : pairs) {
    const auto t = static_cast<int64_t>(p.clean.size());
    cache_bytes += static_cast<double>(t) *
                   static_cast<double>(hook_layout(config, o.hook, t).per_position) *
                   static_cast<double>(config.n_layers) * element;
  }
  check_memory_fits(cache_bytes, device,
                    std::string("the cached hook_") + patch_hook_name(o.hook) + " of " +
                        std::to_string(n) + " pairs",
                    "use fewer pairs");
  // The target run's residual stream entering each layer, kept where it fits beside the source
  // cache: a batch whose rows patch layer l or later then starts at l instead of at the
  // embedding, which saves about half the layers of a full sweep.
  double prefix_bytes = 0.0;
  for (const PatchingPair& p : pairs) {
    prefix_bytes += static_cast<double>(p.clean.size()) * static_cast<double>(config.d_model) *
                    static_cast<double>(config.n_layers - 1) * element;
  }
  bool reuse_prefix = o.reuse_prefix && config.n_layers > 1 &&
                      cache_bytes + prefix_bytes <= available_memory_bytes(device) / 2.0;
  if (reuse_prefix) cache_bytes += prefix_bytes;
  ForwardShape one;
  one.tokens = longest;
  one.attention_maps = o.hook == PatchHook::kPattern;
  one.logit_positions = longest;
  const double per_row =
      forward_bytes(config, one, static_cast<int64_t>(element)) +
      3.0 * static_cast<double>(longest * hook_layout(config, o.hook, longest).per_position) *
          element;
  int64_t batch =
      patching_batch_size(net, o.batch_size, cache_bytes, per_row, longest, n * n_sites);
  if (split.active()) {
    // The first process's: both read free memory, which differs between processes, and every
    // process must compute each batch the same way.
    ByteWriter mine;
    mine.put(batch);
    mine.put(static_cast<int64_t>(reuse_prefix));
    const std::vector<std::string> all = split.all_gather(mine.bytes());
    ByteReader first(all.at(0), "patching batch size of rank 0");
    batch = first.get<int64_t>();
    reuse_prefix = first.get<int64_t>() != 0;
  }
  result.batch_size = batch;

  const std::vector<LengthGroup> groups = group_by_length(pairs);
  PatchingScorer scorer(pairs, o.metric, device);
  result.clean_metric.assign(static_cast<size_t>(n), 0.0);
  result.corrupted_metric.assign(static_cast<size_t>(n), 0.0);
  std::vector<std::string> filters;
  for (int64_t l = 0; l < config.n_layers; ++l) filters.push_back(net.hook_names().name({l, kind}));
  std::vector<std::string> prefix_filters;  // layer 0's input is the embedding: never reused
  for (int64_t l = 1; l < config.n_layers && reuse_prefix; ++l) {
    prefix_filters.push_back(net.hook_names().name({l, HookKind::kResidPre}));
  }

  // The unpatched runs: the source run cached, in chunks of at most `batch` sequences.
  const bool denoise = o.direction == PatchDirection::kDenoise;
  std::vector<std::vector<torch::Tensor>> cached(groups.size());  // [group][layer]
  std::vector<std::vector<torch::Tensor>> prefix(groups.size());  // [group][layer - 1]
  for (size_t g = 0; g < groups.size(); ++g) {
    const std::vector<int64_t>& members = groups[g].pairs;
    std::vector<std::vector<torch::Tensor>> chunks(static_cast<size_t>(config.n_layers));
    std::vector<std::vector<torch::Tensor>> prefix_chunks(prefix_filters.size());
    for (size_t begin = 0; begin < members.size(); begin += static_cast<size_t>(batch)) {
      const std::vector<int64_t> rows(
          members.begin() + static_cast<std::ptrdiff_t>(begin),
          members.begin() + static_cast<std::ptrdiff_t>(
                                std::min(members.size(), begin + static_cast<size_t>(batch))));
      const LogitPositions at = scorer.positions(rows);
      ActivationCache cache;
      const torch::Tensor source_logits = scorer.scored_logits(
          model.run_with_cache(stack_tokens(pairs, rows, denoise), filters, cache, false, at),
          rows);
      ActivationCache target_cache;
      const torch::Tensor target_logits =
          scorer.scored_logits(model.run_with_cache(stack_tokens(pairs, rows, !denoise),
                                                    prefix_filters, target_cache, false, at),
                               rows);
      result.forward_passes += 2;
      for (int64_t l = 0; l < config.n_layers; ++l) {
        chunks[static_cast<size_t>(l)].push_back(cache.at(filters[static_cast<size_t>(l)]));
      }
      for (size_t l = 0; l < prefix_filters.size(); ++l) {
        prefix_chunks[l].push_back(target_cache.at(prefix_filters[l]));
      }
      const torch::Tensor& clean_logits = denoise ? source_logits : target_logits;
      const torch::Tensor& corrupted_logits = denoise ? target_logits : source_logits;
      scorer.set_clean(clean_logits, rows);
      const std::vector<double> clean = scorer.metric(clean_logits, rows);
      const std::vector<double> corrupted = scorer.metric(corrupted_logits, rows);
      for (size_t i = 0; i < rows.size(); ++i) {
        result.clean_metric[static_cast<size_t>(rows[i])] = clean[i];
        result.corrupted_metric[static_cast<size_t>(rows[i])] = corrupted[i];
      }
    }
    for (auto& layer_chunks : chunks) cached[g].push_back(torch::cat(layer_chunks, 0));
    for (auto& layer_chunks : prefix_chunks) prefix[g].push_back(torch::cat(layer_chunks, 0));
  }
  result.clean_mean = mean_of(result.clean_metric);
  result.corrupted_mean = mean_of(result.corrupted_metric);
  if (!(std::abs(result.clean_mean - result.corrupted_mean) > 0.0)) {
    throw InvalidInput("the clean and corrupted runs score the same mean " +
                       std::string(patching_metric_name(o.metric)) + " (" +
                       std::to_string(result.clean_mean) +
                       "), so the normalised score is undefined; the corruption changes nothing "
                       "this metric sees");
  }

  // The sweep: rows are (site, pair) in site-major order, so a batch touches few layers.
  const SweepBatches batches = sweep_batches(groups, n_sites, batch, split);
  // Per batch run here: its [pair, grid] entries and their values.
  std::map<int64_t, std::string> swept;
  ProgressBar progress(std::string("patching hook_") + patch_hook_name(o.hook), batches.rows_here(),
                       o.quiet);
  size_t batch_index = 0;
  for (size_t g = 0; g < groups.size(); ++g) {
    const std::vector<int64_t>& members = groups[g].pairs;
    const auto size = static_cast<int64_t>(members.size());
    const torch::Tensor target = stack_tokens(pairs, members, !denoise);
    for (int64_t begin = 0; begin < size * n_sites; begin += batch) {
      const int64_t end = std::min(size * n_sites, begin + batch);
      if (batches.here[batch_index++] == 0) continue;
      std::vector<int64_t> member_of_row, pair_of_row;
      std::map<int64_t, std::vector<int64_t>> rows_at_layer;  // layer -> rows of the batch
      for (int64_t r = begin; r < end; ++r) {
        const int64_t member = r % size;
        member_of_row.push_back(member);
        pair_of_row.push_back(members[static_cast<size_t>(member)]);
        rows_at_layer[sites[static_cast<size_t>(r / size)].layer].push_back(r - begin);
      }
      ScopedHooks hooks(model);
      for (const auto& [layer, rows] : rows_at_layer) {
        std::vector<int64_t> source_rows;
        std::vector<const PatchSite*> row_sites;
        for (const int64_t row : rows) {
          source_rows.push_back(member_of_row[static_cast<size_t>(row)]);
          row_sites.push_back(&sites[static_cast<size_t>((begin + row) / size)]);
        }
        const torch::Tensor source = cached[g][static_cast<size_t>(layer)].index_select(
            0, index_tensor(source_rows, cached[g][static_cast<size_t>(layer)].device()));
        std::vector<int64_t> shape(source.sizes().begin(), source.sizes().end());
        const torch::Tensor mask =
            site_mask(hook_layout(config, o.hook, groups[g].length), shape, row_sites).to(device);
        const torch::Tensor row_index = index_tensor(rows, device);
        hooks.add(HookPoint{layer, kind},
                  [source, mask, row_index](const torch::Tensor& value, const HookContext&) {
                    const torch::Tensor patched = torch::where(mask, source.to(value.scalar_type()),
                                                               value.index_select(0, row_index));
                    return std::optional<torch::Tensor>(value.index_copy(0, row_index, patched));
                  });
      }
      const LogitPositions at = scorer.positions(pair_of_row);
      const torch::Tensor row_members = torch::tensor(member_of_row, torch::kInt64);
      const int64_t first_layer = rows_at_layer.begin()->first;  // the lowest patched layer
      torch::Tensor logits;
      if (reuse_prefix && first_layer > 0) {
        const torch::Tensor& resid = prefix[g][static_cast<size_t>(first_layer - 1)];
        logits = model.forward_from(first_layer,
                                    resid.index_select(0, row_members.to(resid.device())), at);
      } else {
        logits = model.forward(target.index_select(0, row_members), nullptr, at);
      }
      logits = scorer.scored_logits(logits, pair_of_row);
      std::vector<int64_t> entries;
      for (int64_t r = begin; r < end; ++r) {
        entries.push_back(pair_of_row[static_cast<size_t>(r - begin)] * n_sites + r / size);
      }
      swept[static_cast<int64_t>(batch_index - 1)] =
          pack_indexed_values(entries, scorer.metric(logits, pair_of_row));
      progress.advance(end - begin);
    }
  }
  // Every batch's values from the process that ran it (all of them here without a split).
  const std::vector<std::string> items =
      exchange_items(split, swept, static_cast<int64_t>(batches.costs.size()), "patching values");
  result.per_sample.assign(static_cast<size_t>(n * n_sites), 0.0);
  unpack_indexed_values(items, "patching values", result.per_sample);
  result.forward_passes += static_cast<int64_t>(items.size());

  result.scores.resize(static_cast<size_t>(n_sites));
  for (int64_t s = 0; s < n_sites; ++s) {
    double sum = 0.0;
    for (int64_t p = 0; p < n; ++p) sum += result.per_sample[static_cast<size_t>(p * n_sites + s)];
    result.scores[static_cast<size_t>(s)] =
        normalised_score(sum / static_cast<double>(n), result.clean_mean, result.corrupted_mean);
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace headscope
