#include "dist/byte_codec.h"

#include "core/base/error.h"

namespace headscope {

void ByteWriter::put_string(const std::string& s) {
  put<uint64_t>(s.size());
  bytes_ += s;
}

void ByteWriter::put_tensor(const torch::Tensor& t) {
  put<uint8_t>(t.defined() ? 1 : 0);
  if (!t.defined()) return;
  const auto c = t.cpu().contiguous();
  put<int8_t>(static_cast<int8_t>(c.scalar_type()));
  put_vector(c.sizes().vec());
  bytes_.append(static_cast<const char*>(c.data_ptr()), c.numel() * c.element_size());
}

const char* ByteReader::take(size_t n) {
  if (n > bytes_.size() - at_) {
    throw IoError(what_ + ": the payload ends after " + std::to_string(bytes_.size()) +
                  " bytes, in the middle of a field");
  }
  const char* p = bytes_.data() + at_;
  at_ += n;
  return p;
}

uint64_t ByteReader::count(size_t size) {
  const auto n = get<uint64_t>();
  if (n > (bytes_.size() - at_) / size) {
    throw IoError(what_ + ": a list of " + std::to_string(n) + " elements does not fit in the " +
                  std::to_string(bytes_.size() - at_) + " bytes left");
  }
  return n;
}

std::string ByteReader::get_string() {
  const uint64_t n = count(1);
  return std::string(take(n), n);
}

torch::Tensor ByteReader::get_tensor() {
  if (get<uint8_t>() == 0) return torch::Tensor();
  const auto type = static_cast<torch::ScalarType>(get<int8_t>());
  const std::vector<int64_t> shape = get_vector<int64_t>();
  int64_t numel = 1;
  for (const int64_t d : shape) {
    if (d < 0 || (d != 0 && numel > (int64_t{1} << 40) / d)) {
      throw IoError(what_ + ": a tensor with an impossible shape");
    }
    numel *= d;
  }
  auto t = torch::empty(shape, torch::TensorOptions().dtype(type));
  const size_t n = static_cast<size_t>(numel) * t.element_size();
  if (n != 0) std::memcpy(t.data_ptr(), take(n), n);
  return t;
}

}  // namespace headscope
