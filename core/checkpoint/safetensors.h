// Safetensors files: header parsing with full validation, a memory-mapped reader and a writer.
// Format: u64 little-endian header length N, N bytes of JSON, then the data section; every tensor
// names its [begin, end) byte range within the data section. No LibTorch here, so the parser
// also builds into the fuzz target.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/dtype.h"
#include "core/base/mapped_file.h"

namespace headscope {

struct TensorInfo {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;  // byte range within the data section
  int64_t numel() const;
};

struct SafetensorsHeader {
  std::vector<TensorInfo> tensors;  // sorted by name
  std::map<std::string, std::string> metadata;
  uint64_t data_offset = 0;  // 8 + header length: where the data section starts in the file
};

// Parses and validates the header of a whole safetensors file held in `bytes`. Throws
// InvalidInput naming `file_label` (and the tensor, when one is at fault) on any malformed input.
SafetensorsHeader parse_safetensors_header(const uint8_t* bytes, size_t size,
                                           const std::string& file_label);

class SafetensorsFile {
 public:
  // Throws IoError when the file cannot be mapped, InvalidInput when it is malformed.
  static SafetensorsFile open(const std::string& path);

  SafetensorsFile(SafetensorsFile&&) = default;
  SafetensorsFile& operator=(SafetensorsFile&&) = default;
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::vector<TensorInfo>& tensors() const { return header_.tensors; }
  const TensorInfo* find(std::string_view name) const;  // nullptr when absent
  // Start of the tensor's bytes inside the mapping; aligned only as well as the writer padded.
  const uint8_t* data(const TensorInfo& info) const;
  const std::string& path() const { return map_.path(); }
  const std::map<std::string, std::string>& metadata() const { return header_.metadata; }

 private:
  SafetensorsFile(MappedFile map, SafetensorsHeader header);

  MappedFile map_;
  SafetensorsHeader header_;
  std::map<std::string, size_t, std::less<>> index_;  // name -> position in header_.tensors
};

struct TensorToWrite {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  const void* data;  // numel * dtype_size bytes
};

// Writes `tensors` in the given order. The header is padded with spaces to 8-byte alignment, as
// Hugging Face does. Writes to `path`.tmp and renames, so a failure never leaves a partial file.
void write_safetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace headscope
