// Whether this build's CUDA kernels can run on a given GPU: the *_cuda_supports() checks ask
// before they take a tensor, so a GPU the build has no binary for (a 90a-only build on an A100)
// takes the reference path instead of failing at launch.
#pragma once

#include <string>

#include <torch/types.h>

namespace headscope {

// True when the kernels were compiled for an architecture `device` (a CUDA device) runs
// (kernels/cuda_architectures.h).
bool cuda_kernels_run_on(const torch::Device& device);

// The reason they do not: names the device, its compute capability and the build's
// architectures, and how to build for it.
std::string cuda_kernels_device_mismatch(const torch::Device& device);

}  // namespace headscope
