// sparse_attention(): CUDA tensors the kernel takes go to it; everything else, and every build
// without the kernels, takes the CPU reference (torch ops, on the tensors' own device).
#include "core/base/error.h"
#include "kernels/sparse_attention_backends.h"

namespace headscope {

torch::Tensor sparse_attention(const torch::Tensor& q, const torch::Tensor& k,
                               const torch::Tensor& v, const std::vector<SparseHeadConfig>& heads,
                               double scale) {
  if (sparse_attention_cuda_supports(q, k, v, heads)) {
    return sparse_attention_cuda(q, k, v, heads, scale);
  }
  return sparse_attention_cpu(q, k, v, heads, scale);
}

#if !HEADSCOPE_CUDA_KERNELS
// A build without the CUDA kernels (no nvcc, or a LibTorch without CUDA) has no CUDA path.
bool sparse_attention_cuda_supports(const torch::Tensor&, const torch::Tensor&,
                                    const torch::Tensor&, const std::vector<SparseHeadConfig>&) {
  return false;
}

torch::Tensor sparse_attention_cuda(const torch::Tensor&, const torch::Tensor&,
                                    const torch::Tensor&, const std::vector<SparseHeadConfig>&,
                                    double) {
  throw InvalidInput(
      "sparse_attention_cuda: this build has no CUDA kernels (HEADSCOPE_CUDA off "
      "or LibTorch without CUDA)");
}
#endif

}  // namespace headscope
