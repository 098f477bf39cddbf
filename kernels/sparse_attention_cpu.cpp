// CPU reference of kernels/sparse_attention.h: the kept-entry mask is built a chunk of query
// rows at a time and applied to explicit softmax attention, so memory stays O(chunk x T) per
// head. Only torch ops, so CUDA tensors run through it too (slowly).
#include <algorithm>
#include <limits>
#include <string>

#include "core/base/error.h"
#include "kernels/sparse_attention_backends.h"

namespace headscope {
namespace {

// Score entries per chunk across batch and heads (float32): bounds peak memory near 64 MB.
constexpr int64_t kChunkEntries = int64_t{1} << 24;

std::string shape_of(const torch::Tensor& t) {
  std::string s = "[";
  for (int64_t d = 0; d < t.dim(); ++d) s += (d ? ", " : "") + std::to_string(t.size(d));
  return s + "]";
}

void check_inputs(const torch::Tensor& q, const torch::Tensor& k,
                  const std::vector<SparseHeadConfig>& heads, const char* fn) {
  const std::string where = std::string(fn) + ": ";
  if (q.dim() != 4 || k.dim() != 4 || q.size(0) != k.size(0) || q.size(2) != k.size(2) ||
      q.size(3) != k.size(3) || k.size(1) == 0 || q.size(1) % k.size(1) != 0) {
    throw InvalidInput(where +
                       "q must be [B, H, T, D] and k [B, Hkv, T, D] with H a multiple of "
                       "Hkv; got q " +
                       shape_of(q) + ", k " + shape_of(k));
  }
  if (q.size(2) == 0) throw InvalidInput(where + "the sequence is empty");
  if (static_cast<int64_t>(heads.size()) != q.size(1)) {
    throw InvalidInput(where + "the config has " + std::to_string(heads.size()) + " heads, q has " +
                       std::to_string(q.size(1)) + " query heads");
  }
  for (size_t h = 0; h < heads.size(); ++h) {
    const auto& c = heads[h];
    const std::string head = where + "head " + std::to_string(h) + ": ";
    if (c.kind == SparseKind::kStreaming && (c.sink < 0 || c.window < 1)) {
      throw InvalidInput(head + "streaming needs sink >= 0 and window >= 1, got sink " +
                         std::to_string(c.sink) + ", window " + std::to_string(c.window));
    }
    if (c.kind == SparseKind::kBlockSparse && (c.block_size < 1 || c.topk_blocks < 0)) {
      throw InvalidInput(head +
                         "block_sparse needs block_size >= 1 and topk_blocks >= 0, got "
                         "block_size " +
                         std::to_string(c.block_size) + ", topk_blocks " +
                         std::to_string(c.topk_blocks));
    }
  }
}

// Mean over each block of `block` positions of x [B, T, D] (the last block may be short):
// float32 [B, ceil(T / block), D].
torch::Tensor block_means(const torch::Tensor& x, int64_t block) {
  const int64_t batch = x.size(0), seq = x.size(1), dim = x.size(2);
  const int64_t n = (seq + block - 1) / block;
  auto padded = torch::constant_pad_nd(x.to(torch::kFloat32), {0, 0, 0, n * block - seq});
  auto sums = padded.view({batch, n, block, dim}).sum(2);
  auto counts = torch::clamp_max(
      seq - torch::arange(0, n, torch::TensorOptions(torch::kInt64).device(x.device())) * block,
      block);
  return sums / counts.to(torch::kFloat32).view({1, n, 1});
}

// Block-sparse selection of one head: bool [B, nb, nb], true where query block a reads key
// block b (its own block, and the topk earlier blocks by mean q . mean k, lower b on ties).
torch::Tensor selected_blocks(const torch::Tensor& q, const torch::Tensor& k, int64_t block,
                              int64_t topk) {
  auto qm = block_means(q, block), km = block_means(k, block);
  const int64_t n = qm.size(1);
  auto i64 = torch::TensorOptions(torch::kInt64).device(q.device());
  auto a = torch::arange(0, n, i64).view({n, 1});
  auto b = torch::arange(0, n, i64).view({1, n});
  auto earlier = b < a;
  auto scores = torch::matmul(qm, km.transpose(1, 2))
                    .masked_fill(earlier.logical_not(), -std::numeric_limits<float>::infinity());
  // Stable descending sort: equal scores keep ascending b, and the masked later blocks
  // (b >= a) come after every earlier block, so rank < topk picks exactly the allowed ones.
  auto order = std::get<1>(scores.sort(/*stable=*/true, /*dim=*/-1, /*descending=*/true));
  auto rank =
      torch::empty_like(order).scatter_(-1, order, torch::arange(0, n, i64).expand_as(order));
  return (earlier.logical_and(rank < topk)).logical_or(a == b);
}

// Everything the row masks need, computed once per call.
struct MaskPlan {
  int64_t batch = 0, heads = 0, seq = 0, group = 1;
  std::vector<SparseHeadConfig> configs;
  std::vector<torch::Tensor> blocks;  // per head: selected_blocks for block-sparse heads
};

MaskPlan make_plan(const torch::Tensor& q, const torch::Tensor& k,
                   const std::vector<SparseHeadConfig>& heads) {
  MaskPlan plan;
  plan.batch = q.size(0), plan.heads = q.size(1), plan.seq = q.size(2);
  plan.group = q.size(1) / k.size(1);
  plan.configs = heads;
  plan.blocks.resize(heads.size());
  for (size_t h = 0; h < heads.size(); ++h) {
    if (heads[h].kind != SparseKind::kBlockSparse) continue;
    const int64_t hh = static_cast<int64_t>(h);
    plan.blocks[h] = selected_blocks(q.select(1, hh), k.select(1, hh / plan.group),
                                     heads[h].block_size, heads[h].topk_blocks);
  }
  return plan;
}

// Kept entries of query rows [start, start + rows) against keys [0, keys): bool
// [B, H, rows, keys].
torch::Tensor row_mask(const MaskPlan& plan, int64_t start, int64_t rows, int64_t keys,
                       torch::Device device) {
  auto i64 = torch::TensorOptions(torch::kInt64).device(device);
  auto i = torch::arange(start, start + rows, i64).view({rows, 1});
  auto j = torch::arange(0, keys, i64).view({1, keys});
  auto causal = j <= i;
  std::vector<torch::Tensor> per_head;
  per_head.reserve(plan.configs.size());
  for (size_t h = 0; h < plan.configs.size(); ++h) {
    const auto& c = plan.configs[h];
    torch::Tensor m;  // [rows, keys] or [B, rows, keys]
    switch (c.kind) {
      case SparseKind::kFull:
        m = causal;
        break;
      case SparseKind::kStreaming:
        m = causal.logical_and((j < c.sink).logical_or(j > i - c.window));
        break;
      case SparseKind::kBlockSparse: {
        auto qb = i.view({rows}).div(c.block_size, "floor");
        auto kb = j.view({keys}).div(c.block_size, "floor");
        m = plan.blocks[h].index_select(1, qb).index_select(2, kb).logical_and(causal);
        break;
      }
    }
    per_head.push_back(m.expand({plan.batch, rows, keys}));
  }
  return torch::stack(per_head, 1);
}

int64_t chunk_rows(int64_t batch, int64_t heads, int64_t seq) {
  return std::clamp<int64_t>(kChunkEntries / std::max<int64_t>(1, batch * heads * seq), 1, seq);
}

}  // namespace

torch::Tensor sparse_attention_cpu(const torch::Tensor& q, const torch::Tensor& k,
                                   const torch::Tensor& v,
                                   const std::vector<SparseHeadConfig>& heads, double scale) {
  check_inputs(q, k, heads, "sparse_attention");
  if (!v.sizes().equals(k.sizes())) {
    throw InvalidInput("sparse_attention: v must have k's shape " + shape_of(k) + ", got " +
                       shape_of(v));
  }
  const auto plan = make_plan(q, k, heads);
  const int64_t seq = plan.seq;
  auto kx = k.repeat_interleave(plan.group, 1).to(torch::kFloat32);
  auto vx = v.repeat_interleave(plan.group, 1).to(torch::kFloat32);
  auto qf = q.to(torch::kFloat32);
  auto out = torch::empty_like(q);
  const int64_t chunk = chunk_rows(plan.batch, plan.heads, seq);
  const double neg_inf = -std::numeric_limits<double>::infinity();
  for (int64_t start = 0; start < seq; start += chunk) {
    const int64_t rows = std::min(chunk, seq - start);
    const int64_t keys = start + rows;  // causal: later keys are never kept
    auto mask = row_mask(plan, start, rows, keys, q.device());
    auto scores = torch::matmul(qf.narrow(2, start, rows), kx.narrow(2, 0, keys).transpose(2, 3));
    // Every row keeps its own position, so no row is all -inf.
    auto probs = torch::softmax((scores * scale).masked_fill(mask.logical_not(), neg_inf), -1);
    out.narrow(2, start, rows).copy_(torch::matmul(probs, vx.narrow(2, 0, keys)));
  }
  return out;
}

torch::Tensor sparse_attention_mask(const torch::Tensor& q, const torch::Tensor& k,
                                    const std::vector<SparseHeadConfig>& heads) {
  check_inputs(q, k, heads, "sparse_attention_mask");
  const auto plan = make_plan(q, k, heads);
  return row_mask(plan, 0, plan.seq, plan.seq, q.device());
}

torch::Tensor sparse_kept_fraction(const torch::Tensor& q, const torch::Tensor& k,
                                   const std::vector<SparseHeadConfig>& heads) {
  check_inputs(q, k, heads, "sparse_kept_fraction");
  const auto plan = make_plan(q, k, heads);
  const int64_t seq = plan.seq;
  auto kept = torch::zeros({plan.batch, plan.heads},
                           torch::TensorOptions(torch::kFloat64).device(q.device()));
  const int64_t chunk = chunk_rows(plan.batch, plan.heads, seq);
  for (int64_t start = 0; start < seq; start += chunk) {
    const int64_t rows = std::min(chunk, seq - start);
    kept += row_mask(plan, start, rows, start + rows, q.device()).sum({2, 3}).to(torch::kFloat64);
  }
  return kept / (static_cast<double>(seq) * static_cast<double>(seq + 1) / 2.0);
}

}  // namespace headscope
