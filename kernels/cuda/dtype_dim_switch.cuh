// The one switch from the launchers' run-time element type and padded head dim to the kernels'
// template arguments, so both kernels are instantiated for the same set (bf16/fp16 x 64/128).
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <string>
#include <type_traits>

namespace headscope::cuda {

template <typename T>
struct ElementType {
  using type = T;
};

// Calls launch(ElementType<T>{}, std::integral_constant<int, D>{}) for T = bf16 or fp16 and
// D = 64 or 128, and returns what it returns; another head dim is an error naming `who`.
template <typename Launch>
std::string switch_dtype_dim(bool bf16, int head_dim, const char* who, Launch&& launch) {
  auto with_dim = [&](auto type) -> std::string {
    if (head_dim == 64) return launch(type, std::integral_constant<int, 64>{});
    if (head_dim == 128) return launch(type, std::integral_constant<int, 128>{});
    return std::string(who) + ": head_dim must be 64 or 128, not " + std::to_string(head_dim);
  };
  return bf16 ? with_dim(ElementType<__nv_bfloat16>{}) : with_dim(ElementType<__half>{});
}

}  // namespace headscope::cuda
