#include "core/model/chunked_attention.h"

#include <algorithm>
#include <limits>

namespace headscope {

torch::Tensor chunked_causal_attention(const torch::Tensor& q, const torch::Tensor& k,
                                       const torch::Tensor& v, int64_t offset,
                                       std::optional<int64_t> window, double scale,
                                       int64_t chunk) {
  const int64_t queries = q.size(2);
  auto out = torch::empty_like(q);
  auto index_opts = torch::TensorOptions(torch::kInt64).device(q.device());
  for (int64_t start = 0; start < queries; start += chunk) {
    const int64_t rows = std::min(chunk, queries - start);
    const int64_t first_pos = offset + start, last_pos = first_pos + rows - 1;
    // Keys no query of this chunk can see are skipped, not masked.
    const int64_t key_begin = window ? std::max<int64_t>(0, first_pos - *window + 1) : 0;
    const int64_t key_end = last_pos + 1;
    auto kc = k.narrow(2, key_begin, key_end - key_begin);
    auto vc = v.narrow(2, key_begin, key_end - key_begin);
    auto scores = torch::matmul(q.narrow(2, start, rows), kc.transpose(2, 3)) * scale;
    auto qpos = torch::arange(first_pos, last_pos + 1, index_opts).unsqueeze(1);
    auto kpos = torch::arange(key_begin, key_end, index_opts).unsqueeze(0);
    auto masked = kpos > qpos;
    if (window) masked = masked.logical_or(kpos <= qpos - *window);
    scores = scores.masked_fill(masked, -std::numeric_limits<double>::infinity());
    auto probs = torch::softmax(scores.to(torch::kFloat32), -1).to(q.scalar_type());
    out.narrow(2, start, rows).copy_(torch::matmul(probs, vc));
  }
  return out;
}

}  // namespace headscope
