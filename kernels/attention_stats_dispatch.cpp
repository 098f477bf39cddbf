// attention_stats(): CUDA tensors the kernels take go to them; everything else, and every build
// without the kernels, takes the CPU reference; its outputs are CPU tensors
// (attention_stats_where_computed() leaves them on the GPU). attention_with_stats(): CPU tensors
// take the chunked CPU path, CUDA tensors LibTorch's fused attention and the one-pass kernel
// where they take them.
#include "core/base/error.h"
#include "kernels/attention_stats_backends.h"

namespace headscope {

AttentionStats attention_stats_where_computed(const torch::Tensor& q, const torch::Tensor& k,
                                              const AttentionStatsOptions& options,
                                              const torch::Tensor& lse) {
  check_attention_stats_inputs(q, k, options);
  if (!attention_stats_cuda_supports(q, k, options)) return attention_stats_cpu(q, k, options);
  return attention_stats_cuda(q, k, options, lse);
}

std::optional<AttentionWithStats> attention_with_stats(const torch::Tensor& q,
                                                       const torch::Tensor& k,
                                                       const torch::Tensor& v,
                                                       const AttentionStatsOptions& options) {
  check_attention_with_stats_inputs(q, k, v, options);
  if (!q.is_cuda()) return attention_with_stats_cpu(q, k, v, options);
  return attention_with_stats_cuda(q, k, v, options);
}

AttentionStats attention_stats(const torch::Tensor& q, const torch::Tensor& k,
                               const AttentionStatsOptions& options) {
  AttentionStats out = attention_stats_where_computed(q, k, options);
  if (!out.entropy.is_cuda()) return out;
  for (torch::Tensor* t : {&out.entropy, &out.sink_mass, &out.local_mass, &out.max_prob,
                           &out.argmax, &out.topk_index, &out.topk_prob, &out.block_mass}) {
    *t = t->to(torch::kCPU);
  }
  return out;
}

#if !HEADSCOPE_CUDA_KERNELS
// A build without the CUDA kernels (no nvcc, or a LibTorch without CUDA) has no CUDA path.
bool attention_stats_cuda_supports(const torch::Tensor&, const torch::Tensor&,
                                   const AttentionStatsOptions&) {
  return false;
}

AttentionStats attention_stats_cuda(const torch::Tensor&, const torch::Tensor&,
                                    const AttentionStatsOptions&, const torch::Tensor&) {
  throw InvalidInput(
      "attention_stats_cuda: this build has no CUDA kernels (HEADSCOPE_CUDA off "
      "or LibTorch without CUDA)");
}

void attention_stats_cuda_into(const torch::Tensor& q, const torch::Tensor& k,
                               const AttentionStatsOptions& options, AttentionStats&,
                               const torch::Tensor& lse) {
  attention_stats_cuda(q, k, options, lse);
}

std::optional<AttentionWithStats> attention_with_stats_cuda(const torch::Tensor&,
                                                            const torch::Tensor&,
                                                            const torch::Tensor&,
                                                            const AttentionStatsOptions&) {
  return std::nullopt;
}
#endif

}  // namespace headscope
