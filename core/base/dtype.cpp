#include "core/base/dtype.h"

#include <array>

#include "core/base/error.h"

namespace headscope {
namespace {

struct DTypeRow {
  DType dtype;
  size_t size;
  const char* safetensors;
  const char* name;
};

constexpr std::array<DTypeRow, 10> kDTypes = {{
    {DType::kF64, 8, "F64", "float64"},
    {DType::kF32, 4, "F32", "float32"},
    {DType::kF16, 2, "F16", "float16"},
    {DType::kBF16, 2, "BF16", "bfloat16"},
    {DType::kI64, 8, "I64", "int64"},
    {DType::kI32, 4, "I32", "int32"},
    {DType::kI16, 2, "I16", "int16"},
    {DType::kI8, 1, "I8", "int8"},
    {DType::kU8, 1, "U8", "uint8"},
    {DType::kBool, 1, "BOOL", "bool"},
}};

const DTypeRow& row(DType dtype) {
  for (const auto& r : kDTypes) {
    if (r.dtype == dtype) return r;
  }
  HS_ASSERT(false && "DType missing from kDTypes");
}

}  // namespace

size_t dtype_size(DType dtype) { return row(dtype).size; }
const char* dtype_safetensors_name(DType dtype) { return row(dtype).safetensors; }
const char* dtype_name(DType dtype) { return row(dtype).name; }

std::optional<DType> dtype_from_safetensors(std::string_view name) {
  for (const auto& r : kDTypes) {
    if (name == r.safetensors) return r.dtype;
  }
  return std::nullopt;
}

}  // namespace headscope
