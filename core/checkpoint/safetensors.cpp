#include "core/checkpoint/safetensors.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <tuple>
#include <utility>

#include "core/base/error.h"

namespace headscope {
namespace {

using nlohmann::json;

// Same bound as the reference Rust implementation: real headers are a few MB at most, and the
// bound keeps a corrupt length from making us parse gigabytes.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;
constexpr char kMetadataKey[] = "__metadata__";

uint64_t read_u64_le(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

std::string shape_string(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

std::string range_string(uint64_t begin, uint64_t end) {
  return "[" + std::to_string(begin) + ", " + std::to_string(end) + "]";
}

// A JSON value quoted in an error message: scalars cut short so a corrupt file cannot flood the
// terminal; containers only described, because dumping a deeply nested one recurses.
std::string brief(const json& value) {
  if (value.is_array()) return "an array of " + std::to_string(value.size()) + " elements";
  if (value.is_object()) return "an object of " + std::to_string(value.size()) + " fields";
  std::string s = value.dump(-1, ' ', false, json::error_handler_t::replace);
  return s.size() > 60 ? s.substr(0, 57) + "..." : s;
}

// Product of the dimensions; std::nullopt when it does not fit in int64.
std::optional<int64_t> checked_numel(const std::vector<int64_t>& shape) {
  // A zero anywhere makes the product zero however large the other dimensions are.
  if (std::find(shape.begin(), shape.end(), 0) != shape.end()) return 0;
  int64_t numel = 1;
  for (int64_t dim : shape) {
    if (__builtin_mul_overflow(numel, dim, &numel)) return std::nullopt;
  }
  return numel;
}

std::optional<uint64_t> checked_bytes(const std::vector<int64_t>& shape, DType dtype) {
  const auto numel = checked_numel(shape);
  uint64_t bytes = 0;
  if (!numel || __builtin_mul_overflow(static_cast<uint64_t>(*numel), dtype_size(dtype), &bytes)) {
    return std::nullopt;
  }
  return bytes;
}

// Non-negative JSON integer; std::nullopt for anything else (floats, negatives, strings).
std::optional<uint64_t> as_unsigned(const json& value) {
  if (!value.is_number_unsigned()) return std::nullopt;
  return value.get<uint64_t>();
}

class HeaderParser {
 public:
  HeaderParser(const std::string& label, uint64_t data_size) : label_(label), data_size_(data_size) {}

  TensorInfo tensor(const std::string& name, const json& entry) const {
    const std::string where = label_ + ": tensor '" + name + "'";
    if (!entry.is_object()) {
      throw InvalidInput(where + ": expected an object with dtype, shape and data_offsets, got " +
                         brief(entry));
    }
    for (const auto& item : entry.items()) {
      if (item.key() != "dtype" && item.key() != "shape" && item.key() != "data_offsets") {
        throw InvalidInput(where + ": unknown field '" + item.key() +
                           "' (expected dtype, shape and data_offsets)");
      }
    }
    TensorInfo info;
    info.name = name;
    info.dtype = dtype(where, field(where, entry, "dtype"));
    info.shape = shape(where, field(where, entry, "shape"));
    std::tie(info.begin, info.end) = offsets(where, field(where, entry, "data_offsets"));

    const uint64_t held = info.end - info.begin;
    const auto needed = checked_bytes(info.shape, info.dtype);
    if (!needed || *needed != held) {
      throw InvalidInput(where + ": data_offsets " + range_string(info.begin, info.end) + " hold " +
                         std::to_string(held) + " bytes but shape " + shape_string(info.shape) +
                         " x " + dtype_safetensors_name(info.dtype) + " needs " +
                         (needed ? std::to_string(*needed) : std::string("more than 2^64")));
    }
    return info;
  }

  std::map<std::string, std::string> metadata(const json& value) const {
    const std::string where = label_ + ": " + kMetadataKey;
    if (!value.is_object()) {
      throw InvalidInput(where + ": expected an object of strings, got " + brief(value));
    }
    std::map<std::string, std::string> out;
    for (const auto& item : value.items()) {
      if (!item.value().is_string()) {
        throw InvalidInput(where + ": value of '" + item.key() + "' must be a string, got " +
                           brief(item.value()));
      }
      out.emplace(item.key(), item.value().get<std::string>());
    }
    return out;
  }

  // Sorting by begin makes any overlap show up between neighbours.
  void check_disjoint(const std::vector<TensorInfo>& tensors) const {
    std::vector<const TensorInfo*> order;
    for (const auto& t : tensors) {
      if (t.end > t.begin) order.push_back(&t);  // empty tensors occupy no bytes
    }
    std::sort(order.begin(), order.end(),
              [](const TensorInfo* a, const TensorInfo* b) { return a->begin < b->begin; });
    for (size_t i = 1; i < order.size(); ++i) {
      const TensorInfo& prev = *order[i - 1];
      const TensorInfo& cur = *order[i];
      if (cur.begin < prev.end) {
        throw InvalidInput(label_ + ": tensor '" + cur.name + "': data_offsets " +
                           range_string(cur.begin, cur.end) + " overlap those of tensor '" +
                           prev.name + "' " + range_string(prev.begin, prev.end));
      }
    }
  }

 private:
  static const json& field(const std::string& where, const json& entry, const char* key) {
    const auto it = entry.find(key);
    if (it == entry.end()) throw InvalidInput(where + ": missing field '" + key + "'");
    return *it;
  }

  static DType dtype(const std::string& where, const json& value) {
    const auto dtype = value.is_string() ? dtype_from_safetensors(value.get<std::string>())
                                         : std::nullopt;
    if (!dtype) {
      throw InvalidInput(where + ": unknown dtype " + brief(value) +
                         " (expected F64, F32, F16, BF16, I64, I32, I16, I8, U8 or BOOL)");
    }
    return *dtype;
  }

  static std::vector<int64_t> shape(const std::string& where, const json& value) {
    const std::string expected = where + ": shape must be an array of non-negative integers";
    if (!value.is_array()) throw InvalidInput(expected + ", got " + brief(value));
    std::vector<int64_t> shape;
    for (const auto& dim : value) {
      const auto d = as_unsigned(dim);
      if (!d || *d > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        throw InvalidInput(expected + ", but dimension " + std::to_string(shape.size()) + " is " +
                           brief(dim));
      }
      shape.push_back(static_cast<int64_t>(*d));
    }
    if (!checked_numel(shape)) {
      throw InvalidInput(where + ": shape " + shape_string(shape) + " has more than 2^63 elements");
    }
    return shape;
  }

  std::pair<uint64_t, uint64_t> offsets(const std::string& where, const json& value) const {
    const std::string expected = where + ": data_offsets must be [begin, end] of non-negative "
                                         "integers, got ";
    if (!value.is_array() || value.size() != 2) throw InvalidInput(expected + brief(value));
    const auto begin = as_unsigned(value[0]);
    const auto end = as_unsigned(value[1]);
    if (!begin || !end) {
      throw InvalidInput(expected + "[" + brief(value[0]) + ", " + brief(value[1]) + "]");
    }
    if (*end < *begin) {
      throw InvalidInput(where + ": data_offsets " + range_string(*begin, *end) +
                         " end before they begin");
    }
    if (*end > data_size_) {
      throw InvalidInput(where + ": data_offsets " + range_string(*begin, *end) +
                         " run past the data section of " + std::to_string(data_size_) + " bytes");
    }
    return {*begin, *end};
  }

  const std::string& label_;
  uint64_t data_size_;
};

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

}  // namespace

int64_t TensorInfo::numel() const {
  int64_t n = 1;
  for (int64_t dim : shape) n *= dim;
  return n;
}

SafetensorsHeader parse_safetensors_header(const uint8_t* bytes, size_t size,
                                           const std::string& file_label) {
  if (size < 8) {
    throw InvalidInput(file_label + ": " + std::to_string(size) +
                       " bytes is too short for a safetensors file (expected at least the 8-byte "
                       "header length)");
  }
  const uint64_t header_len = read_u64_le(bytes);
  // Compared against size - 8, not header_len + 8, which can wrap.
  if (header_len > size - 8) {
    throw InvalidInput(file_label + ": header length " + std::to_string(header_len) +
                       " runs past the end of the file (" + std::to_string(size) + " bytes)");
  }
  if (header_len > kMaxHeaderBytes) {
    throw InvalidInput(file_label + ": header length " + std::to_string(header_len) +
                       " exceeds the limit of " + std::to_string(kMaxHeaderBytes) + " bytes");
  }

  const char* text = reinterpret_cast<const char*>(bytes + 8);
  json header;
  try {
    header = json::parse(text, text + header_len);
  } catch (const json::exception& e) {
    throw InvalidInput(file_label + ": header is not valid JSON: " + e.what());
  }
  if (!header.is_object()) {
    throw InvalidInput(file_label + ": header must be a JSON object, got " + brief(header));
  }

  SafetensorsHeader out;
  out.data_offset = 8 + header_len;
  const HeaderParser parser(file_label, size - out.data_offset);
  for (const auto& item : header.items()) {  // nlohmann keeps object keys sorted
    if (item.key() == kMetadataKey) {
      out.metadata = parser.metadata(item.value());
    } else {
      out.tensors.push_back(parser.tensor(item.key(), item.value()));
    }
  }
  parser.check_disjoint(out.tensors);
  return out;
}

SafetensorsFile::SafetensorsFile(MappedFile map, SafetensorsHeader header)
    : map_(std::move(map)), header_(std::move(header)) {
  for (size_t i = 0; i < header_.tensors.size(); ++i) index_.emplace(header_.tensors[i].name, i);
}

SafetensorsFile SafetensorsFile::open(const std::string& path) {
  MappedFile map(path);
  SafetensorsHeader header = parse_safetensors_header(map.data(), map.size(), path);
  return SafetensorsFile(std::move(map), std::move(header));
}

const TensorInfo* SafetensorsFile::find(std::string_view name) const {
  const auto it = index_.find(name);
  return it == index_.end() ? nullptr : &header_.tensors[it->second];
}

const uint8_t* SafetensorsFile::data(const TensorInfo& info) const {
  HS_ASSERT(header_.data_offset + info.end <= map_.size());
  return map_.data() + header_.data_offset + info.begin;
}

void write_safetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  json header = json::object();
  if (!metadata.empty()) header[kMetadataKey] = metadata;
  std::vector<uint64_t> sizes;
  uint64_t offset = 0;
  for (const auto& t : tensors) {
    const std::string where = path + ": tensor '" + t.name + "'";
    if (t.name == kMetadataKey || header.contains(t.name)) {
      throw InvalidInput(where + ": name is reserved or used twice");
    }
    const bool dims_ok = std::all_of(t.shape.begin(), t.shape.end(), [](int64_t d) { return d >= 0; });
    const auto bytes = dims_ok ? checked_bytes(t.shape, t.dtype) : std::nullopt;
    if (!bytes) throw InvalidInput(where + ": invalid shape " + shape_string(t.shape));
    HS_ASSERT(t.data != nullptr || *bytes == 0);
    header[t.name] = {{"dtype", dtype_safetensors_name(t.dtype)},
                      {"shape", t.shape},
                      {"data_offsets", {offset, offset + *bytes}}};
    sizes.push_back(*bytes);
    offset += *bytes;
  }

  std::string text;
  try {
    text = header.dump();
  } catch (const json::exception& e) {
    throw InvalidInput(path + ": cannot encode header: " + e.what());
  }
  // Padding keeps the data section 8-byte aligned, so readers can use the tensors in place.
  text.append((8 - text.size() % 8) % 8, ' ');
  uint8_t len_bytes[8];
  for (int i = 0; i < 8; ++i) len_bytes[i] = static_cast<uint8_t>(text.size() >> (8 * i));

  const std::string tmp = path + ".tmp";
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(tmp.c_str(), "wb"));
  if (!file) throw IoError(tmp + ": cannot open for writing: " + std::strerror(errno));
  bool ok = std::fwrite(len_bytes, 1, 8, file.get()) == 8 &&
            std::fwrite(text.data(), 1, text.size(), file.get()) == text.size();
  for (size_t i = 0; ok && i < tensors.size(); ++i) {
    ok = sizes[i] == 0 || std::fwrite(tensors[i].data, 1, sizes[i], file.get()) == sizes[i];
  }
  ok = std::fclose(file.release()) == 0 && ok;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::remove(tmp.c_str());
    throw IoError(path + ": cannot write: " + std::strerror(err));
  }
}

}  // namespace headscope
