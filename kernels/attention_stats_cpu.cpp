#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include <ATen/Parallel.h>

#include "core/base/error.h"
#include "kernels/attention_stats_backends.h"

namespace headscope {

namespace {

// The statistics of query `query` from its shifted scores x_j = s_j - max and e_j = exp(x_j)
// over its allowed keys [lo, query]: the normaliser and Σ e x in one vectorizable pass, sink
// and local mass over their few keys, the top-k by insertion (ties keep the lower key first,
// so slot 0 is the argmax the statistics define) and the block masses, added to block_row.
struct RowStats {
  float entropy, sink_mass, local_mass;
  float inv;       // 1 / Σe: the row's probabilities are e * inv
  double log_sum;  // log Σe: the row's lse less its max
};

RowStats row_stats(const float* x, const float* e, int64_t lo, int64_t query,
                   const AttentionStatsOptions& o, int64_t topk, float* top_e, int32_t* top_i,
                   int64_t block, float* block_row) {
  const int64_t hi = query;
  // Eight independent partial sums: the compiler keeps them in vector registers without being
  // allowed to reorder one sum.
  constexpr int kLanes = 8;
  float sum_e[kLanes] = {}, sum_ex[kLanes] = {};
  int64_t j = lo;
  for (; j + kLanes <= hi + 1; j += kLanes) {
    for (int l = 0; l < kLanes; ++l) {
      sum_e[l] += e[j + l];
      sum_ex[l] += e[j + l] * x[j + l];
    }
  }
  for (; j <= hi; ++j) {
    sum_e[0] += e[j];
    sum_ex[0] += e[j] * x[j];
  }
  double total = 0.0, weighted = 0.0;
  for (int l = 0; l < kLanes; ++l) total += sum_e[l], weighted += sum_ex[l];
  const auto inv = static_cast<float>(1.0 / total);

  float sink = 0.0f, local = 0.0f;
  for (int64_t s = lo; s <= std::min(hi, o.sink - 1); ++s) sink += e[s];
  for (int64_t s = std::max(lo, query - o.window + 1); s <= hi; ++s) local += e[s];

  int64_t filled = 0;
  for (int64_t s = lo; s <= hi; ++s) {
    const float v = e[s];
    if (filled == topk && !(v > top_e[topk - 1])) continue;
    int64_t at = filled < topk ? filled++ : topk - 1;
    while (at > 0 && top_e[at - 1] < v) {
      top_e[at] = top_e[at - 1];
      top_i[at] = top_i[at - 1];
      --at;
    }
    top_e[at] = v;
    top_i[at] = static_cast<int32_t>(s);
  }
  for (int64_t r = 0; r < filled; ++r) top_e[r] *= inv;

  for (int64_t b0 = lo - lo % block; b0 <= hi; b0 += block) {
    float mass = 0.0f;
    for (int64_t s = std::max(lo, b0); s <= std::min(hi, b0 + block - 1); ++s) mass += e[s];
    block_row[b0 / block] += mass * inv;
  }
  // lse - Σ p s = log Σe - Σ p x (the max cancels).
  const double log_sum = std::log(total);
  return {static_cast<float>(log_sum - weighted / total), sink * inv, local * inv, inv, log_sum};
}

}  // namespace

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

namespace {

// The chunked statistics and, where v is defined, the attention output z (q's dtype) and lse from
// the same probabilities: z's rows are (e · V) / Σe, one more product per chunk and KV group.
AttentionWithStats chunked_stats(const torch::Tensor& q_in, const torch::Tensor& k_in,
                                 const torch::Tensor& v_in, const AttentionStatsOptions& o) {
  check_attention_stats_inputs(q_in, k_in, o);
  torch::NoGradGuard no_grad;
  const int64_t heads = q_in.size(0), seq = q_in.size(1), dim = q_in.size(2);
  const int64_t group = heads / k_in.size(0);
  const int64_t topk = std::min(o.topk, seq);
  const int64_t block = o.block_size;
  const int64_t n_blocks = (seq + block - 1) / block;
  // Chunks hold whole query blocks so each block's mean is finished inside one chunk.
  const int64_t chunk = std::max<int64_t>(1, o.chunk / block) * block;
  const bool attend = v_in.defined();

  auto f32 = torch::TensorOptions(torch::kFloat32);
  auto i64 = torch::TensorOptions(torch::kInt64);
  AttentionWithStats fused;
  AttentionStats& out = fused.stats;
  out.entropy = torch::empty({heads, seq}, f32);
  out.sink_mass = torch::empty({heads, seq}, f32);
  out.local_mass = torch::empty({heads, seq}, f32);
  out.max_prob = torch::empty({heads, seq}, f32);
  out.argmax = torch::empty({heads, seq}, torch::kInt32);
  out.topk_prob = torch::zeros({heads, seq, o.topk}, f32);
  out.topk_index = torch::full({heads, seq, o.topk}, -1, torch::kInt32);
  out.block_mass = torch::zeros({heads, n_blocks, n_blocks}, f32);
  if (attend) {
    fused.z = torch::empty({heads, seq, dim}, torch::TensorOptions(q_in.scalar_type()));
    fused.lse = torch::empty({heads, seq}, f32);
  }

  auto q = q_in.to(torch::kCPU, torch::kFloat32).contiguous();
  auto k = k_in.to(torch::kCPU, torch::kFloat32).contiguous();
  auto v = attend ? v_in.to(torch::kCPU, torch::kFloat32).contiguous() : torch::Tensor();
  const double neg_inf = -std::numeric_limits<double>::infinity();
  auto entropy = out.entropy.accessor<float, 2>();
  auto sink_mass = out.sink_mass.accessor<float, 2>();
  auto local_mass = out.local_mass.accessor<float, 2>();
  auto max_prob = out.max_prob.accessor<float, 2>();
  auto argmax = out.argmax.accessor<int32_t, 2>();
  auto topk_prob = out.topk_prob.accessor<float, 3>();
  auto topk_index = out.topk_index.accessor<int32_t, 3>();
  auto block_mass = out.block_mass.accessor<float, 3>();
  float* lse = attend ? fused.lse.data_ptr<float>() : nullptr;

  // Scratch for the largest chunk, allocated once (a chunk's buffers outgrow the last one's:
  // allocated per chunk, they would grow the heap and fault in fresh pages every time).
  const int64_t edge = std::min(chunk, seq);
  const int64_t most = group * edge * seq;
  auto x_buf = torch::empty({most}, f32), e_buf = torch::empty({most}, f32);
  auto inv_buf = torch::empty({attend ? group * edge : 0}, f32);
  auto z_buf = torch::empty({attend ? group * edge * dim : 0}, f32);
  float* inv = attend ? inv_buf.data_ptr<float>() : nullptr;
  // Without a sliding window only a chunk's own [rows, rows] diagonal block hides keys.
  const auto triangle = torch::ones({edge, edge}, torch::kBool).triu(1);
  for (int64_t start = 0; start < seq; start += chunk) {
    const int64_t rows = std::min(chunk, seq - start);
    const int64_t keys = start + rows;  // causal: later keys are never seen by this chunk
    torch::Tensor hidden;
    if (o.sliding_window) {
      auto qpos = torch::arange(start, keys, i64).unsqueeze(1);
      auto kpos = torch::arange(0, keys, i64).unsqueeze(0);
      hidden = (kpos > qpos).logical_or(kpos <= qpos - *o.sliding_window);
    }
    const int64_t query_blocks = (rows + block - 1) / block;

    for (int64_t kv = 0; kv < k.size(0); ++kv) {
      auto kc = k[kv].narrow(0, 0, keys);                               // [keys, D]
      auto qc = q.narrow(0, kv * group, group).narrow(1, start, rows);  // [group, rows, D]
      // The scores' bulk work in LibTorch's vectorized kernels (matmul, max, exp); every
      // statistic then comes from one pass over each row (row_stats).
      auto x = x_buf.narrow(0, 0, group * rows * keys).view({group, rows, keys});
      auto x_rows = x.view({group * rows, keys});
      // The scale as the product's alpha: the same rounding as a multiply after it, one pass
      // less over the scores (beta = 0: the buffer's old contents are not read).
      torch::addmm_out(x_rows, x_rows, qc.reshape({group * rows, dim}), kc.t(), /*beta=*/0,
                       /*alpha=*/o.scale);
      if (hidden.defined()) {
        x.masked_fill_(hidden, neg_inf);
      } else {
        x.narrow(2, start, rows)
            .masked_fill_(triangle.narrow(0, 0, rows).narrow(1, 0, rows), neg_inf);
      }
      const auto row_max = std::get<0>(x.max(-1, /*keepdim=*/true));  // [group, rows, 1]
      x.sub_(row_max);  // x = s - max: e = exp(x) <= 1
      auto e = e_buf.narrow(0, 0, group * rows * keys).view({group, rows, keys});
      torch::exp_out(e, x);
      const float* xs = x.data_ptr<float>();
      const float* es = e.data_ptr<float>();
      const float* maxes = row_max.data_ptr<float>();
      // One task per (head, query block): a block's mean over its rows needs all of them.
      at::parallel_for(0, group * query_blocks, 1, [&](int64_t begin, int64_t end) {
        std::vector<float> top_e(static_cast<size_t>(topk));
        std::vector<int32_t> top_i(static_cast<size_t>(topk));
        std::vector<float> block_row(static_cast<size_t>(n_blocks));
        for (int64_t task = begin; task < end; ++task) {
          const int64_t g = task / query_blocks, qb = task % query_blocks;
          const int64_t h = kv * group + g;
          const int64_t first = qb * block, last = std::min(rows, first + block);
          std::fill(block_row.begin(), block_row.end(), 0.0f);
          for (int64_t r = first; r < last; ++r) {
            const int64_t query = start + r;
            const int64_t lo =
                o.sliding_window ? std::max<int64_t>(0, query - *o.sliding_window + 1) : 0;
            const int64_t row = g * rows + r, offset = row * keys;
            const RowStats st = row_stats(xs + offset, es + offset, lo, query, o, topk,
                                          top_e.data(), top_i.data(), block, block_row.data());
            entropy[h][query] = st.entropy;
            sink_mass[h][query] = st.sink_mass;
            local_mass[h][query] = st.local_mass;
            max_prob[h][query] = top_e[0];
            argmax[h][query] = top_i[0];
            for (int64_t slot = 0; slot < std::min(topk, query - lo + 1); ++slot) {
              topk_prob[h][query][slot] = top_e[static_cast<size_t>(slot)];
              topk_index[h][query][slot] = top_i[static_cast<size_t>(slot)];
            }
            if (attend) {
              inv[row] = st.inv;
              lse[h * seq + query] = static_cast<float>(maxes[row] + st.log_sum);
            }
          }
          const auto count = static_cast<float>(last - first);
          const int64_t query_block = start / block + qb;
          for (int64_t b = 0; b <= (start + last - 1) / block; ++b) {
            block_mass[h][query_block][b] = block_row[static_cast<size_t>(b)] / count;
          }
        }
      });
      if (attend) {
        // Hidden keys hold e = 0, so the product runs over all the chunk's keys.
        auto zc = z_buf.narrow(0, 0, group * rows * dim).view({group * rows, dim});
        torch::mm_out(zc, e.view({group * rows, keys}), v[kv].narrow(0, 0, keys));
        zc.mul_(inv_buf.narrow(0, 0, group * rows).unsqueeze(1));
        fused.z.narrow(0, kv * group, group)
            .narrow(1, start, rows)
            .copy_(zc.view({group, rows, dim}));
      }
    }
  }
  return fused;
}

}  // namespace

void check_attention_with_stats_inputs(const torch::Tensor& q, const torch::Tensor& k,
                                       const torch::Tensor& v, const AttentionStatsOptions& o) {
  check_attention_stats_inputs(q, k, o);
  if (!v.defined() || !v.sizes().equals(k.sizes())) {
    throw InvalidInput("attention_with_stats: v must have k's shape " + c10::str(k.sizes()));
  }
}

AttentionStats attention_stats_cpu(const torch::Tensor& q, const torch::Tensor& k,
                                   const AttentionStatsOptions& o) {
  return chunked_stats(q, k, torch::Tensor(), o).stats;
}

AttentionWithStats attention_with_stats_cpu(const torch::Tensor& q, const torch::Tensor& k,
                                            const torch::Tensor& v,
                                            const AttentionStatsOptions& o) {
  check_attention_with_stats_inputs(q, k, v, o);
  return chunked_stats(q, k, v, o);
}

}  // namespace headscope
