// Read-only memory mapping of a whole file, so that weights are paged in on demand and never
// copied (safetensors shards, index files).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace headscope {

class MappedFile {
 public:
  // Throws IoError naming `path` when it cannot be opened, inspected or mapped.
  explicit MappedFile(const std::string& path);
  ~MappedFile();

  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  // nullptr for an empty file: mmap rejects zero lengths.
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  void unmap();

  std::string path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace headscope
