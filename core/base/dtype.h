// Element types of tensors on disk (safetensors, HDF5), independent of LibTorch so that
// file parsers compile without it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace headscope {

enum class DType : uint8_t { kF64, kF32, kF16, kBF16, kI64, kI32, kI16, kI8, kU8, kBool };

// Bytes per element.
size_t dtype_size(DType dtype);

// Safetensors spelling ("F32", "BF16", ...); std::nullopt for names headscope does not read.
std::optional<DType> dtype_from_safetensors(std::string_view name);
const char* dtype_safetensors_name(DType dtype);

// Short user-facing spelling ("float32", "bfloat16", ...).
const char* dtype_name(DType dtype);

}  // namespace headscope
