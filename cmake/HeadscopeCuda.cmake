# HEADSCOPE_CUDA: compile the CUDA kernels in kernels/cuda/ (on by default when nvcc is found).
# They are plain CUDA behind a raw-pointer launcher, so they build even where LibTorch has no
# CUDA (CI: the kernels compile, nothing links them, and CUDA tensors cannot occur). Where
# LibTorch has CUDA, HEADSCOPE_TORCH_CUDA is set and headscope_kernels routes CUDA tensors to
# them. Included after find_package(Torch).
include(CheckLanguage)
check_language(CUDA)
set(headscope_cuda_default OFF)
if(CMAKE_CUDA_COMPILER)
  set(headscope_cuda_default ON)
endif()
option(HEADSCOPE_CUDA "Build the CUDA kernels (needs nvcc)" ${headscope_cuda_default})

set(HEADSCOPE_TORCH_CUDA OFF)
if(HEADSCOPE_CUDA)
  if(NOT CMAKE_CUDA_COMPILER)
    message(FATAL_ERROR "HEADSCOPE_CUDA is on but no CUDA compiler (nvcc) was found")
  endif()
  # 90a: H100/H200 with the warpgroup MMA (wgmma) of kernels/cuda/wgmma_tile.cuh. 80: machine
  # code for A100-class GPUs (8.x) and PTX the driver compiles for any later one, both on the
  # mma.sync path. The dispatch takes the kernels only on a GPU one of them runs on
  # (kernels/cuda_architectures.h). A variable of our own: PyTorch's CMake config sets
  # CMAKE_CUDA_ARCHITECTURES to OFF.
  set(HEADSCOPE_CUDA_ARCHITECTURES "80;90a" CACHE STRING "CUDA architectures of the kernels")
  # The dispatch reads the list back, so it must be plain entries; cp.async and bf16 mma.sync
  # need sm_80.
  foreach(arch IN LISTS HEADSCOPE_CUDA_ARCHITECTURES)
    if(NOT arch MATCHES "^([0-9]+)[af]?(-real|-virtual)?$" OR CMAKE_MATCH_1 LESS 80)
      message(FATAL_ERROR "HEADSCOPE_CUDA_ARCHITECTURES: '${arch}' is not an architecture the "
                          "kernels build for: expected entries such as 80, 86-real, 90a or "
                          "100-virtual, each 80 or above (cp.async and bf16 mma.sync need sm_80)")
    endif()
  endforeach()
  if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
    set(CMAKE_CUDA_ARCHITECTURES ${HEADSCOPE_CUDA_ARCHITECTURES})
  endif()
  if(CCACHE_PROGRAM)
    set(CMAKE_CUDA_COMPILER_LAUNCHER ${CCACHE_PROGRAM})
  endif()
  enable_language(CUDA)
  find_package(CUDAToolkit REQUIRED)
  if(TORCH_CUDA_LIBRARIES OR TARGET torch_cuda OR TARGET c10_cuda)
    set(HEADSCOPE_TORCH_CUDA ON)
  endif()
  message(STATUS "headscope: CUDA kernels built for ${HEADSCOPE_CUDA_ARCHITECTURES}; "
                 "linked into LibTorch's CUDA path: ${HEADSCOPE_TORCH_CUDA}")
endif()
