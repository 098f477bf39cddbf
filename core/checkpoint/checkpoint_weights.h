// The weights of a Hugging Face model directory: one `model.safetensors`, or shards listed by
// `model.safetensors.index.json`. Every file stays memory-mapped for the object's lifetime.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/checkpoint/safetensors.h"

namespace headscope {

class CheckpointWeights {
 public:
  struct Entry {
    const SafetensorsFile* file;
    const TensorInfo* info;
  };

  // Prefers model.safetensors when both layouts are present, as transformers does. Throws
  // IoError when neither exists or a shard is missing, InvalidInput when a file is malformed.
  static CheckpointWeights open(const std::string& dir);

  std::optional<Entry> find(std::string_view name) const;
  std::vector<std::string> names() const;  // sorted
  uint64_t total_numel() const;

 private:
  CheckpointWeights() = default;

  std::vector<SafetensorsFile> files_;
  std::map<std::string, size_t, std::less<>> file_of_;  // tensor name -> index into files_
};

}  // namespace headscope
