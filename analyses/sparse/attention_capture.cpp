#include "analyses/sparse/attention_capture.h"

#include <algorithm>
#include <cmath>

#include <torch/torch.h>

namespace headscope {
namespace {

torch::Tensor positions(int64_t start, int64_t n) {
  return torch::arange(start, start + n);
}

}  // namespace

MaskRows streaming_rows(int64_t sink, int64_t window) {
  return [sink, window](int64_t start, int64_t rows, int64_t keys) {
    auto i = positions(start, rows).unsqueeze(1), j = positions(0, keys).unsqueeze(0);
    return (j < sink).logical_or(j > i - window).logical_and(j <= i);
  };
}

MaskRows block_rows(torch::Tensor selected, int64_t block_size) {
  return [selected, block_size](int64_t start, int64_t rows, int64_t keys) {
    auto qb = positions(start, rows).div(block_size, "floor");
    auto kb = positions(0, keys).div(block_size, "floor");
    auto i = positions(start, rows).unsqueeze(1), j = positions(0, keys).unsqueeze(0);
    return selected.index_select(0, qb).index_select(1, kb).logical_and(j <= i);
  };
}

MaskRows vertical_slash_rows(torch::Tensor columns, torch::Tensor offsets) {
  return [columns, offsets](int64_t start, int64_t rows, int64_t keys) {
    auto i = positions(start, rows).unsqueeze(1), j = positions(0, keys).unsqueeze(0);
    auto causal = j <= i;
    auto offset = (i - j).clamp(0, offsets.size(0) - 1);
    auto on_slash = offsets.index({offset});
    return columns.narrow(0, 0, keys).unsqueeze(0).logical_or(on_slash).logical_and(causal);
  };
}

torch::Tensor top_mass_blocks(const StatsRun& run, int64_t layer, int64_t head, int64_t topk) {
  auto mass = run.block_mass[static_cast<size_t>(layer)][head].to(torch::kFloat64);
  const int64_t n = mass.size(0);
  auto a = torch::arange(n).view({n, 1}), b = torch::arange(n).view({1, n});
  auto earlier = b < a;
  auto scores = mass.masked_fill(earlier.logical_not(), -1.0);
  auto order = std::get<1>(scores.sort(/*stable=*/true, /*dim=*/-1, /*descending=*/true));
  auto rank = torch::empty_like(order).scatter_(-1, order, torch::arange(n).expand_as(order));
  return earlier.logical_and(rank < topk).logical_or(a == b);
}

std::pair<torch::Tensor, torch::Tensor> top_vertical_slash(const StatsRun& run, int64_t layer,
                                                           int64_t head, int64_t vertical,
                                                           int64_t slash) {
  const int64_t T = run.length;
  auto idx = run.topk_index[layer][head];  // [T, k]
  auto p = run.topk_prob[layer][head].to(torch::kFloat64);
  auto valid = idx >= 0;
  auto p_valid = p.masked_fill(valid.logical_not(), 0.0).flatten();
  auto column_mass =
      torch::zeros({T}, torch::kFloat64).index_add_(0, idx.clamp_min(0).flatten(), p_valid);
  auto offset = (torch::arange(T).unsqueeze(1) - idx).clamp(0, T - 1);
  auto slash_mass = torch::zeros({T}, torch::kFloat64).index_add_(0, offset.flatten(), p_valid);
  auto pick = [T](const torch::Tensor& mass, int64_t count) {
    auto keep = torch::zeros({T}, torch::kBool);
    if (count > 0) {
      // Stable descending order: equal mass keeps the lower index (earlier column, nearer slash).
      auto order = std::get<1>(mass.sort(/*stable=*/true, /*dim=*/0, /*descending=*/true));
      keep.index_fill_(0, order.narrow(0, 0, std::min(count, T)), true);
    }
    return keep;
  };
  return {pick(column_mass, vertical), pick(slash_mass, slash)};
}

double estimated_capture(const StatsRun& run, int64_t layer, int64_t head, const MaskRows& mask,
                         double tail) {
  torch::NoGradGuard no_grad;
  const int64_t T = run.length, B = run.block_size, nb = (T + B - 1) / B;
  const auto tail_rows = static_cast<int64_t>(std::ceil(std::clamp(tail, 0.0, 1.0) * T));
  const int64_t first = std::max<int64_t>(0, T - std::max<int64_t>(1, tail_rows)) / B * B;
  auto idx = run.topk_index[layer][head];  // [T, k]
  auto valid = idx >= 0;
  auto p = run.topk_prob[layer][head].to(torch::kFloat64).masked_fill(valid.logical_not(), 0.0);
  auto rows_in_block = torch::clamp_max(T - torch::arange(nb) * B, B).to(torch::kFloat64);
  auto tile_mass = run.block_mass[static_cast<size_t>(layer)][head].to(torch::kFloat64) *
                   rows_in_block.view({nb, 1});
  // Top-k mass per tile, removed from the tile's total to leave the unrecorded rest.
  auto qblock = torch::arange(T).div(B, "floor").unsqueeze(1).expand_as(idx);
  auto kblock = idx.clamp_min(0).div(B, "floor");
  auto topk_tile = torch::zeros({nb * nb}, torch::kFloat64)
                       .index_add_(0, (qblock * nb + kblock).flatten(), p.flatten())
                       .view({nb, nb});
  auto residual = (tile_mass - topk_tile).clamp_min(0.0);
  residual.narrow(0, 0, first / B).zero_();

  auto kept_tile = torch::zeros({nb, nb}, torch::kFloat64);
  auto causal_tile = torch::zeros({nb, nb}, torch::kFloat64);
  double kept_topk = 0.0;
  // Whole query blocks per chunk, about 4M mask entries.
  const int64_t chunk = std::max<int64_t>(1, (int64_t{1} << 22) / (T * B)) * B;
  auto causal = [](int64_t start, int64_t rows, int64_t keys) {
    return positions(0, keys).unsqueeze(0) <= positions(start, rows).unsqueeze(1);
  };
  for (int64_t start = first; start < T; start += chunk) {
    const int64_t rows = std::min(chunk, T - start);
    auto keep = mask(start, rows, T).logical_and(causal(start, rows, T));
    kept_topk += (keep.gather(1, idx.narrow(0, start, rows).clamp_min(0)).to(torch::kFloat64) *
                  p.narrow(0, start, rows))
                     .sum()
                     .item<double>();
    auto per_tile = [&](const torch::Tensor& m) {
      const int64_t qb = (rows + B - 1) / B;
      auto padded =
          torch::constant_pad_nd(m.to(torch::kFloat64), {0, nb * B - T, 0, qb * B - rows});
      return padded.view({qb, B, nb, B}).sum({1, 3});
    };
    kept_tile.narrow(0, start / B, (rows + B - 1) / B) += per_tile(keep);
    causal_tile.narrow(0, start / B, (rows + B - 1) / B) += per_tile(causal(start, rows, T));
  }
  auto fraction = torch::where(causal_tile > 0, kept_tile / causal_tile.clamp_min(1.0),
                               torch::zeros_like(kept_tile));
  const double total = kept_topk + (residual * fraction).sum().item<double>();
  return std::clamp(total / static_cast<double>(T - first), 0.0, 1.0);
}

}  // namespace headscope
