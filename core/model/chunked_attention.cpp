#include "core/model/chunked_attention.h"

#include <algorithm>
#include <limits>

#include <ATen/core/grad_mode.h>

namespace headscope {

torch::Tensor chunked_causal_attention(const torch::Tensor& q, const torch::Tensor& k,
                                       const torch::Tensor& v, int64_t offset,
                                       std::optional<int64_t> window, double scale, int64_t chunk) {
  const int64_t queries = q.size(2);
  auto out = torch::empty_like(q);
  auto index_opts = torch::TensorOptions(torch::kInt64).device(q.device());
  // Without a window, keys before a chunk's first query are seen by all its queries: only the
  // chunk's own [rows, rows] diagonal block is masked (its strict upper triangle).
  const int64_t edge = std::min(chunk, queries);
  const auto triangle =
      window ? torch::Tensor()
             : torch::ones({edge, edge}, torch::TensorOptions(torch::kBool).device(q.device()))
                   .triu(1);
  const double neg_inf = -std::numeric_limits<double>::infinity();
  // Under autograd (training) every step allocates: out= operations record no gradient.
  const bool differentiable =
      at::GradMode::is_enabled() && (q.requires_grad() || k.requires_grad() || v.requires_grad());
  // Otherwise the scratch for the largest chunk is allocated once: each chunk sees more keys
  // than the one before, so buffers allocated per chunk never fit the holes the last one left,
  // and the heap grows (and faults in fresh pages) every chunk. Each chunk takes a prefix.
  const int64_t batch_heads = q.size(0) * q.size(1);
  const int64_t most = differentiable ? 0 : batch_heads * edge * k.size(2);
  auto scores_buf = torch::empty({most}, q.options());
  auto probs_buf = torch::empty({most}, q.options());
  auto f32 = q.options().dtype(torch::kFloat32);
  auto scores32_buf = torch::empty({most}, f32);
  auto softmax_buf = torch::empty({most}, f32);
  auto z_buf = torch::empty({differentiable ? 0 : batch_heads * edge * q.size(3)}, q.options());
  // [B * H, rows, cols] over a buffer's prefix: bmm_out writes it in place.
  const auto view = [&](const torch::Tensor& buf, int64_t rows, int64_t cols) {
    return buf.narrow(0, 0, batch_heads * rows * cols).view({batch_heads, rows, cols});
  };
  const auto heads_first = [&](const torch::Tensor& t) {
    return t.reshape({batch_heads, t.size(2), t.size(3)});
  };
  for (int64_t start = 0; start < queries; start += chunk) {
    const int64_t rows = std::min(chunk, queries - start);
    const int64_t first_pos = offset + start, last_pos = first_pos + rows - 1;
    // Keys no query of this chunk can see are skipped, not masked.
    const int64_t key_begin = window ? std::max<int64_t>(0, first_pos - *window + 1) : 0;
    const int64_t key_end = last_pos + 1, keys = key_end - key_begin;
    auto qc = heads_first(q.narrow(2, start, rows));
    auto kt = heads_first(k.narrow(2, key_begin, keys)).transpose(1, 2);
    auto vc = heads_first(v.narrow(2, key_begin, keys));
    torch::Tensor scores = differentiable ? torch::bmm(qc, kt) : view(scores_buf, rows, keys);
    if (!differentiable) torch::bmm_out(scores, qc, kt);
    scores.mul_(scale);
    if (window) {
      auto qpos = torch::arange(first_pos, last_pos + 1, index_opts).unsqueeze(1);
      auto kpos = torch::arange(key_begin, key_end, index_opts).unsqueeze(0);
      scores.masked_fill_((kpos > qpos).logical_or(kpos <= qpos - *window), neg_inf);
    } else {
      scores.narrow(2, first_pos - key_begin, rows)
          .masked_fill_(triangle.narrow(0, 0, rows).narrow(1, 0, rows), neg_inf);
    }
    torch::Tensor z;
    if (differentiable) {
      z = torch::bmm(torch::softmax(scores.to(torch::kFloat32), -1).to(q.scalar_type()), vc);
    } else {
      auto scores32 = view(scores32_buf, rows, keys).copy_(scores);
      auto softmax = view(softmax_buf, rows, keys);
      torch::_softmax_out(softmax, scores32, -1, /*half_to_float=*/false);
      auto probs = view(probs_buf, rows, keys).copy_(softmax);
      z = view(z_buf, rows, q.size(3));
      torch::bmm_out(z, probs, vc);
    }
    out.narrow(2, start, rows).copy_(z.view({q.size(0), q.size(1), rows, q.size(3)}));
  }
  return out;
}

}  // namespace headscope
