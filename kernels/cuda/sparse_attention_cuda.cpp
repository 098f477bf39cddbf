// LibTorch side of the CUDA sparse attention: lays out the inputs, encodes the per-head config,
// selects the blocks of block-sparse heads with torch ops (block means, one batched matmul and
// a stable sort, the rule of kernels/sparse_attention.h) and fills SparseAttentionParams for the
// launcher (sparse_attention_kernel.cu).
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include <algorithm>
#include <limits>
#include <map>
#include <string>

#include "core/base/error.h"
#include "kernels/cuda/kernel_device.h"
#include "kernels/cuda/sparse_attention_params.h"
#include "kernels/sparse_attention_backends.h"

namespace headscope {
namespace {

constexpr int64_t kMaxSeq = int64_t{1} << 20;  // the tile list lives in shared memory
constexpr int64_t kMaxGrid = 65535;            // grid y (heads) and z (batch)

// Zero-pads the head dim to 64 or 128 (zeros add nothing to q·k, and padded value columns are
// cut off the output) and makes the layout the kernel loads with 16-byte vectors: last dim
// contiguous, other strides multiples of 8, 16-byte aligned.
torch::Tensor sparse_kernel_layout(const torch::Tensor& x) {
  const int64_t d = x.size(3), padded = d <= 64 ? 64 : 128;
  torch::Tensor y = d == padded ? x : torch::constant_pad_nd(x, {0, padded - d});
  bool aligned = y.stride(3) == 1 && reinterpret_cast<uintptr_t>(y.data_ptr()) % 16 == 0;
  for (int64_t i = 0; i < 3; ++i) aligned = aligned && y.stride(i) % 8 == 0;
  return aligned ? y : y.contiguous();
}

bool config_supported(const SparseHeadConfig& c) {
  switch (c.kind) {
    case SparseKind::kFull:
      return true;
    case SparseKind::kStreaming:
      return c.sink >= 0 && c.window >= 1;
    case SparseKind::kBlockSparse:
      return c.block_size >= cuda::kSparseTile && c.block_size % cuda::kSparseTile == 0 &&
             c.topk_blocks >= 0;
  }
  return false;
}

// Mean over each block of `block` positions of x [B, n, T, D] (the last block may be short):
// float32 [B, n, ceil(T / block), D]. Sums in float32 straight from x's dtype, so x is read once
// and never copied.
torch::Tensor block_means_per_head(const torch::Tensor& x, int64_t block) {
  const int64_t batch = x.size(0), heads = x.size(1), seq = x.size(2), dim = x.size(3);
  const int64_t full = seq / block, tail = seq - full * block;
  std::vector<torch::Tensor> parts;
  if (full > 0) {
    parts.push_back(x.narrow(2, 0, full * block)
                        .reshape({batch, heads, full, block, dim})
                        .sum(3, /*keepdim=*/false, torch::kFloat32)
                        .div_(static_cast<double>(block)));
  }
  if (tail > 0) {
    parts.push_back(x.narrow(2, full * block, tail)
                        .sum(2, /*keepdim=*/true, torch::kFloat32)
                        .div_(static_cast<double>(tail)));
  }
  return parts.size() == 1 ? parts[0] : torch::cat(parts, 2);
}

// The selected earlier key blocks of every block-sparse head, ascending, -1 after the last:
// int32 [B, H, max blocks, max selected] (a single -1 when no head is block-sparse).
struct Selection {
  torch::Tensor blocks;
  int64_t max_query_blocks = 1, max_selected = 1;
};

Selection select_blocks(const torch::Tensor& q, const torch::Tensor& k,
                        const std::vector<SparseHeadConfig>& heads) {
  const int64_t batch = q.size(0), n_heads = q.size(1), seq = q.size(2);
  const int64_t group = q.size(1) / k.size(1);
  std::map<int64_t, std::vector<int64_t>> by_block;  // block size -> its block-sparse heads
  Selection s;
  for (int64_t h = 0; h < n_heads; ++h) {
    const auto& c = heads[static_cast<size_t>(h)];
    if (c.kind != SparseKind::kBlockSparse) continue;
    by_block[c.block_size].push_back(h);
    const int64_t nb = (seq + c.block_size - 1) / c.block_size;
    s.max_query_blocks = std::max(s.max_query_blocks, nb);
    s.max_selected = std::max(s.max_selected, std::min(c.topk_blocks, nb));
  }
  auto i64 = torch::TensorOptions(torch::kInt64).device(q.device());
  s.blocks = torch::full({batch, n_heads, s.max_query_blocks, s.max_selected}, -1,
                         torch::TensorOptions(torch::kInt32).device(q.device()));
  for (const auto& [block, members] : by_block) {
    const int64_t nb = (seq + block - 1) / block, n = static_cast<int64_t>(members.size());
    std::vector<int64_t> kv_members, topk;
    for (int64_t h : members) {
      kv_members.push_back(h / group);
      topk.push_back(heads[static_cast<size_t>(h)].topk_blocks);
    }
    auto head_index = torch::tensor(members, torch::kInt64).to(q.device());
    auto kv_index = torch::tensor(kv_members, torch::kInt64).to(q.device());
    auto qm = block_means_per_head(q, block).index_select(1, head_index);
    auto km = block_means_per_head(k, block).index_select(1, kv_index);
    auto a = torch::arange(0, nb, i64).view({nb, 1});
    auto b = torch::arange(0, nb, i64).view({1, nb});
    auto earlier = b < a;
    auto scores = torch::matmul(qm, km.transpose(2, 3))
                      .masked_fill(earlier.logical_not(), -std::numeric_limits<float>::infinity());
    // Stable descending sort: equal scores keep ascending b, and the masked blocks (b >= a)
    // rank after every earlier block, so rank < topk picks exactly the allowed ones.
    auto order = std::get<1>(scores.sort(/*stable=*/true, /*dim=*/-1, /*descending=*/true));
    auto rank =
        torch::empty_like(order).scatter_(-1, order, torch::arange(0, nb, i64).expand_as(order));
    auto limit = torch::tensor(topk, torch::kInt64).to(q.device()).view({1, n, 1, 1});
    auto chosen = earlier.logical_and(rank < limit);
    // Chosen block indices first, ascending; the others sort to the end as nb and become -1.
    auto keyed = torch::where(chosen, b.expand_as(chosen), torch::full_like(rank, nb));
    const int64_t width = std::min(s.max_selected, nb);
    auto lists = std::get<0>(keyed.sort(-1)).narrow(-1, 0, width);
    lists = torch::where(lists == nb, torch::full_like(lists, -1), lists).to(torch::kInt32);
    lists =
        torch::constant_pad_nd(lists, {0, s.max_selected - width, 0, s.max_query_blocks - nb}, -1);
    s.blocks.index_copy_(1, head_index, lists);
  }
  return s;
}

// Inputs the kernel takes, whatever the GPU.
bool sparse_inputs_supported(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                             const std::vector<SparseHeadConfig>& heads) {
  if (!q.defined() || !k.defined() || !v.defined()) return false;
  const auto dtype = q.scalar_type();
  if (!q.is_cuda() || !k.is_cuda() || !v.is_cuda() || k.device() != q.device() ||
      v.device() != q.device() || k.scalar_type() != dtype || v.scalar_type() != dtype ||
      (dtype != torch::kBFloat16 && dtype != torch::kHalf)) {
    return false;
  }
  if (q.dim() != 4 || k.dim() != 4 || !v.sizes().equals(k.sizes())) return false;
  const int64_t batch = q.size(0), n_heads = q.size(1), seq = q.size(2), dim = q.size(3);
  if (k.size(0) != batch || k.size(1) == 0 || n_heads % k.size(1) != 0 || k.size(2) != seq ||
      k.size(3) != dim || dim < 1 || dim > 128 || seq < 1 || seq > kMaxSeq || batch < 1 ||
      batch > kMaxGrid || n_heads > kMaxGrid || static_cast<int64_t>(heads.size()) != n_heads) {
    return false;
  }
  return std::all_of(heads.begin(), heads.end(), config_supported);
}

}  // namespace

bool sparse_attention_cuda_supports(const torch::Tensor& q, const torch::Tensor& k,
                                    const torch::Tensor& v,
                                    const std::vector<SparseHeadConfig>& heads) {
  return sparse_inputs_supported(q, k, v, heads) && cuda_kernels_run_on(q.device());
}

torch::Tensor sparse_attention_cuda(const torch::Tensor& q_in, const torch::Tensor& k_in,
                                    const torch::Tensor& v_in,
                                    const std::vector<SparseHeadConfig>& heads, double scale) {
  if (!sparse_inputs_supported(q_in, k_in, v_in, heads)) {
    throw InvalidInput(
        "sparse_attention_cuda: needs bfloat16 or float16 CUDA tensors q [B, H, T, D] and k, v "
        "[B, Hkv, T, D] on one device, head dim <= 128, T <= 2^20, one valid config per "
        "query head and block-sparse block sizes that are multiples of 64");
  }
  if (!cuda_kernels_run_on(q_in.device())) {
    throw InvalidInput("sparse_attention_cuda: " + cuda_kernels_device_mismatch(q_in.device()));
  }
  const c10::cuda::CUDAGuard guard(q_in.device());
  torch::NoGradGuard no_grad;
  const torch::Tensor q = sparse_kernel_layout(q_in), k = sparse_kernel_layout(k_in),
                      v = sparse_kernel_layout(v_in);
  const int64_t seq = q.size(2);

  // A block-sparse head whose block spans the sequence reads every causal key: a full head.
  std::vector<SparseHeadConfig> effective = heads;
  for (auto& c : effective) {
    if (c.kind == SparseKind::kBlockSparse && c.block_size >= seq) c = SparseHeadConfig{};
  }
  std::vector<int32_t> config;
  for (const auto& c : effective) {
    const int32_t kind = c.kind == SparseKind::kFull        ? cuda::kSparseFull
                         : c.kind == SparseKind::kStreaming ? cuda::kSparseStreaming
                                                            : cuda::kSparseBlockSparse;
    // Sinks and windows past the sequence change nothing; clamped, they fit in int32.
    config.insert(config.end(),
                  {kind, static_cast<int32_t>(std::min(c.sink, seq)),
                   static_cast<int32_t>(std::min(c.window, seq + 1)),
                   kind == cuda::kSparseBlockSparse ? static_cast<int32_t>(c.block_size) : 0});
  }
  auto head_config = torch::tensor(config, torch::kInt32).to(q.device());
  const Selection selection = select_blocks(q, k, effective);
  auto out = torch::empty(q.sizes(), q.options());  // padded head dim, cut below

  cuda::SparseAttentionParams p;
  p.q = q.data_ptr();
  p.k = k.data_ptr();
  p.v = v.data_ptr();
  p.out = out.data_ptr();
  p.q_batch_stride = q.stride(0), p.q_head_stride = q.stride(1), p.q_token_stride = q.stride(2);
  p.k_batch_stride = k.stride(0), p.k_head_stride = k.stride(1), p.k_token_stride = k.stride(2);
  p.v_batch_stride = v.stride(0), p.v_head_stride = v.stride(1), p.v_token_stride = v.stride(2);
  p.out_batch_stride = out.stride(0), p.out_head_stride = out.stride(1);
  p.out_token_stride = out.stride(2);
  p.batch = static_cast<int>(q.size(0));
  p.heads = static_cast<int>(q.size(1));
  p.kv_heads = static_cast<int>(k.size(1));
  p.seq = static_cast<int>(seq);
  p.head_dim = static_cast<int>(q.size(3));
  p.bf16 = q.scalar_type() == torch::kBFloat16;
  p.scale = static_cast<float>(scale);
  p.head_config = head_config.data_ptr<int32_t>();
  p.selected = selection.blocks.data_ptr<int32_t>();
  p.max_query_blocks = static_cast<int>(selection.max_query_blocks);
  p.max_selected = static_cast<int>(selection.max_selected);
  const std::string error = cuda::sparse_attention_launch(
      p, c10::cuda::getCurrentCUDAStream(q.device().index()).stream());
  if (!error.empty()) throw Error("sparse_attention_cuda: CUDA error: " + error);
  const int64_t dim = q_in.size(3);
  return dim == out.size(3) ? out : out.narrow(3, 0, dim).contiguous();
}

}  // namespace headscope
