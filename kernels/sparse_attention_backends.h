// The implementations behind sparse_attention(): the CPU reference (torch ops, any device) and,
// where LibTorch has CUDA and the kernels are built in (HEADSCOPE_CUDA_KERNELS), the CUDA
// kernel. sparse_attention() picks one; tests and benchmarks call them directly.
#pragma once

#include "kernels/sparse_attention.h"

namespace headscope {

// Masked softmax attention through torch ops; checks every input (InvalidInput).
torch::Tensor sparse_attention_cpu(const torch::Tensor& q, const torch::Tensor& k,
                                   const torch::Tensor& v,
                                   const std::vector<SparseHeadConfig>& heads, double scale);

// True when this build has the CUDA kernel, it was compiled for the tensors' GPU
// (kernels/cuda_architectures.h), and it takes these inputs: q, k, v CUDA tensors on one device,
// all bfloat16 or all float16, shapes as sparse_attention() needs, head dim <= 128 (padded to
// 64 or 128), T <= 2^20, a valid config whose block-sparse heads have block sizes that are
// multiples of 64. Everything else takes the reference (which also reports bad input).
bool sparse_attention_cuda_supports(const torch::Tensor& q, const torch::Tensor& k,
                                    const torch::Tensor& v,
                                    const std::vector<SparseHeadConfig>& heads);

// The CUDA kernel, output on q's device in q's dtype. Throws InvalidInput, naming the reason,
// when sparse_attention_cuda_supports() is false.
torch::Tensor sparse_attention_cuda(const torch::Tensor& q, const torch::Tensor& k,
                                    const torch::Tensor& v,
                                    const std::vector<SparseHeadConfig>& heads, double scale);

}  // namespace headscope
