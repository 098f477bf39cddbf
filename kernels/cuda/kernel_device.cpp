#include "kernels/cuda/kernel_device.h"

#include <cuda_runtime_api.h>

#include "core/base/error.h"
#include "kernels/cuda_architectures.h"

namespace headscope {
namespace {

// HEADSCOPE_CUDA_ARCHITECTURES as the kernels were compiled (kernels/CMakeLists.txt), entries
// separated by spaces.
constexpr const char* kBuiltArchitectures = HEADSCOPE_CUDA_ARCHITECTURES_BUILT;

struct Capability {
  int major = 0, minor = 0;
};

Capability capability(const torch::Device& device) {
  HS_ASSERT(device.is_cuda() && device.has_index());
  Capability c;
  if (cudaDeviceGetAttribute(&c.major, cudaDevAttrComputeCapabilityMajor, device.index()) !=
          cudaSuccess ||
      cudaDeviceGetAttribute(&c.minor, cudaDevAttrComputeCapabilityMinor, device.index()) !=
          cudaSuccess) {
    throw Error("cannot read the compute capability of " + device.str() + ": " +
                cudaGetErrorString(cudaGetLastError()));
  }
  return c;
}

}  // namespace

bool cuda_kernels_run_on(const torch::Device& device) {
  const Capability c = capability(device);
  return cuda_architectures_run_on(kBuiltArchitectures, c.major, c.minor);
}

std::string cuda_kernels_device_mismatch(const torch::Device& device) {
  const Capability c = capability(device);
  cudaDeviceProp properties{};
  const std::string name = cudaGetDeviceProperties(&properties, device.index()) == cudaSuccess
                               ? std::string(properties.name) + ", "
                               : std::string();
  return device.str() + " (" + name + "compute capability " + std::to_string(c.major) + "." +
         std::to_string(c.minor) + ") runs none of this build's CUDA kernels (built for " +
         kBuiltArchitectures + "); add " + std::to_string(c.major) + std::to_string(c.minor) +
         " to -DHEADSCOPE_CUDA_ARCHITECTURES to use them";
}

}  // namespace headscope
