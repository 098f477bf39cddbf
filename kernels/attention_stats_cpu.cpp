#include <algorithm>
#include <limits>

#include "core/base/error.h"
#include "kernels/attention_stats_backends.h"

namespace headscope {

void check_attention_stats_inputs(const torch::Tensor& q, const torch::Tensor& k,
                                  const AttentionStatsOptions& o) {
  if (q.dim() != 3 || k.dim() != 3 || q.size(1) != k.size(1) || q.size(2) != k.size(2) ||
      k.size(0) == 0 || q.size(0) % k.size(0) != 0) {
    throw InvalidInput(
        "attention_stats: q must be [H, T, D] and k [Hkv, T, D] with H a multiple "
        "of Hkv");
  }
  if (o.sink < 0 || o.window < 1 || o.topk < 1 || o.block_size < 1 || o.chunk < 1 ||
      (o.sliding_window && *o.sliding_window < 1)) {
    throw InvalidInput(
        "attention_stats: sink must be >= 0; window, topk, block size and chunk "
        ">= 1");
  }
}

AttentionStats attention_stats_cpu(const torch::Tensor& q_in, const torch::Tensor& k_in,
                                   const AttentionStatsOptions& o) {
  check_attention_stats_inputs(q_in, k_in, o);
  torch::NoGradGuard no_grad;
  const int64_t heads = q_in.size(0), seq = q_in.size(1);
  const int64_t group = heads / k_in.size(0);
  const int64_t topk = std::min(o.topk, seq);
  const int64_t block = o.block_size;
  const int64_t n_blocks = (seq + block - 1) / block;
  // Chunks hold whole query blocks so each block's mean is finished inside one chunk.
  const int64_t chunk = std::max<int64_t>(1, o.chunk / block) * block;

  auto f32 = torch::TensorOptions(torch::kFloat32);
  auto i64 = torch::TensorOptions(torch::kInt64);
  AttentionStats out;
  out.entropy = torch::empty({heads, seq}, f32);
  out.sink_mass = torch::empty({heads, seq}, f32);
  out.local_mass = torch::empty({heads, seq}, f32);
  out.max_prob = torch::empty({heads, seq}, f32);
  out.argmax = torch::empty({heads, seq}, torch::kInt32);
  out.topk_prob = torch::zeros({heads, seq, o.topk}, f32);
  out.topk_index = torch::full({heads, seq, o.topk}, -1, torch::kInt32);
  out.block_mass = torch::zeros({heads, n_blocks, n_blocks}, f32);

  auto q = q_in.to(torch::kCPU, torch::kFloat32);
  auto k = k_in.to(torch::kCPU, torch::kFloat32);
  const double neg_inf = -std::numeric_limits<double>::infinity();

  for (int64_t start = 0; start < seq; start += chunk) {
    const int64_t rows = std::min(chunk, seq - start);
    const int64_t keys = start + rows;  // causal: later keys are never seen by this chunk
    auto qpos = torch::arange(start, keys, i64).unsqueeze(1);
    auto kpos = torch::arange(0, keys, i64).unsqueeze(0);
    auto allowed = kpos <= qpos;
    if (o.sliding_window) allowed = allowed.logical_and(kpos > qpos - *o.sliding_window);
    auto sink_keys = allowed.logical_and(kpos < o.sink);
    auto local_keys = allowed.logical_and(kpos > qpos - o.window);
    auto allowed_count = allowed.sum(-1, /*keepdim=*/true);  // [rows, 1]
    // An early chunk can see fewer keys than k; its remaining slots stay empty.
    const int64_t chunk_topk = std::min(topk, keys);
    auto rank = torch::arange(0, chunk_topk, i64).unsqueeze(0);  // [1, chunk_topk]
    auto rank_valid = (rank < allowed_count).unsqueeze(0);       // [1, rows, chunk_topk]

    for (int64_t kv = 0; kv < k.size(0); ++kv) {
      auto kc = k[kv].narrow(0, 0, keys);                               // [keys, D]
      auto qc = q.narrow(0, kv * group, group).narrow(1, start, rows);  // [group, rows, D]
      auto scores = torch::matmul(qc, kc.t()) * o.scale;
      scores = scores.masked_fill(allowed.logical_not(), neg_inf);
      auto lse = torch::logsumexp(scores, -1, /*keepdim=*/true);
      auto probs = torch::exp(scores - lse);  // exactly 0 where masked
      // Σ p·s over allowed keys only: masked entries are 0 · -inf.
      auto ps = (probs * scores.masked_fill(allowed.logical_not(), 0.0)).sum(-1);
      auto heads_slice = [&](const torch::Tensor& t) {
        return t.narrow(0, kv * group, group).narrow(1, start, rows);
      };
      heads_slice(out.entropy).copy_(lse.squeeze(-1) - ps);
      heads_slice(out.sink_mass).copy_((probs * sink_keys).sum(-1));
      heads_slice(out.local_mass).copy_((probs * local_keys).sum(-1));
      auto top = probs.topk(chunk_topk, -1, /*largest=*/true, /*sorted=*/true);
      auto top_p = std::get<0>(top);
      auto top_i = std::get<1>(top);
      // Lowest key among equal maxima, whatever order topk returned them in.
      auto is_max = probs == top_p.narrow(-1, 0, 1);
      auto first_max =
          torch::where(is_max, kpos.expand_as(probs), torch::scalar_tensor(keys, i64)).amin(-1);
      heads_slice(out.max_prob).copy_(top_p.select(-1, 0));
      heads_slice(out.argmax).copy_(first_max);
      heads_slice(out.topk_prob)
          .narrow(-1, 0, chunk_topk)
          .copy_(top_p.masked_fill(rank_valid.logical_not(), 0.0));
      heads_slice(out.topk_index)
          .narrow(-1, 0, chunk_topk)
          .copy_(top_i.masked_fill(rank_valid.logical_not(), -1));

      // Block mass: pad keys to whole blocks, sum within key blocks, average query rows.
      const int64_t key_blocks = (keys + block - 1) / block;
      auto padded = torch::constant_pad_nd(probs, {0, key_blocks * block - keys});
      auto per_row = padded.view({group, rows, key_blocks, block}).sum(-1);  // [g, rows, kb]
      const int64_t query_blocks = (rows + block - 1) / block;
      auto row_padded = torch::constant_pad_nd(per_row, {0, 0, 0, query_blocks * block - rows});
      auto sums = row_padded.view({group, query_blocks, block, key_blocks}).sum(2);
      auto counts = torch::clamp_max(rows - torch::arange(0, query_blocks, i64) * block, block)
                        .to(torch::kFloat32)
                        .view({1, query_blocks, 1});
      out.block_mass.narrow(0, kv * group, group)
          .narrow(1, start / block, query_blocks)
          .narrow(2, 0, key_blocks)
          .copy_(sums / counts);
    }
  }
  return out;
}

}  // namespace headscope
