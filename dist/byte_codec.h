// Results crossing between ranks as bytes: numbers, strings, id lists and CPU tensors, written
// in this process's byte order (every rank of a launch runs the same build on one architecture).
// The reader checks every length against what is left, so a short or damaged payload is an
// error naming what was being read, never an out-of-bounds read.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <torch/types.h>

namespace headscope {

class ByteWriter {
 public:
  template <class T>
  void put(const T& value) {
    static_assert(std::is_trivially_copyable_v<T>);
    bytes_.append(reinterpret_cast<const char*>(&value), sizeof(T));
  }
  void put_string(const std::string& s);
  template <class T>
  void put_vector(const std::vector<T>& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    put<uint64_t>(v.size());
    bytes_.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
  }
  // Dtype, shape and the elements of a (copied to) contiguous CPU tensor; undefined allowed.
  void put_tensor(const torch::Tensor& t);

  const std::string& bytes() const { return bytes_; }

 private:
  std::string bytes_;
};

class ByteReader {
 public:
  // `what` names the payload in errors ("results of rank 1").
  ByteReader(const std::string& bytes, std::string what) : bytes_(bytes), what_(std::move(what)) {}

  template <class T>
  T get() {
    static_assert(std::is_trivially_copyable_v<T>);
    T value;
    std::memcpy(&value, take(sizeof(T)), sizeof(T));
    return value;
  }
  std::string get_string();
  template <class T>
  std::vector<T> get_vector() {
    const uint64_t n = count(sizeof(T));
    std::vector<T> v(n);
    if (n != 0) std::memcpy(v.data(), take(n * sizeof(T)), n * sizeof(T));
    return v;
  }
  torch::Tensor get_tensor();
  bool done() const { return at_ == bytes_.size(); }

 private:
  const char* take(size_t n);
  // Reads an element count and checks that many elements of `size` bytes are left.
  uint64_t count(size_t size);

  const std::string& bytes_;
  std::string what_;
  size_t at_ = 0;
};

}  // namespace headscope
