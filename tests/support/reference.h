// Reads a reference.safetensors fixture (outputs of Hugging Face transformers) into tensors.
#pragma once

#include <map>
#include <string>

#include <torch/types.h>

#include "core/checkpoint/safetensors.h"

namespace headscope::test {

inline std::map<std::string, torch::Tensor> load_reference(const std::string& path) {
  auto file = SafetensorsFile::open(path);
  std::map<std::string, torch::Tensor> out;
  for (const auto& info : file.tensors()) {
    auto dtype = info.dtype == DType::kI64 ? torch::kInt64 : torch::kFloat32;
    out[info.name] =
        torch::from_blob(const_cast<uint8_t*>(file.data(info)), info.shape, dtype).clone();
  }
  return out;
}

inline double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
}

}  // namespace headscope::test
