#include "core/store/group_writer.h"

#include <hdf5_hl.h>
#include <utf8proc.h>

#include <algorithm>
#include <optional>
#include <utility>

#include "core/base/error.h"
#include "core/store/hdf5_attribute.h"
#include "core/store/recording_schema.h"

namespace headscope {
namespace {

// Offset of the first byte that makes text unusable as an HDF5 string read back by h5py:
// invalid UTF-8, or a NUL (HDF5 strings end at one).
std::optional<size_t> bad_text_byte(const std::string& text) {
  const auto* bytes = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
  const auto size = static_cast<utf8proc_ssize_t>(text.size());
  utf8proc_ssize_t offset = 0;
  while (offset < size) {
    utf8proc_int32_t codepoint = 0;
    const utf8proc_ssize_t length = utf8proc_iterate(bytes + offset, size - offset, &codepoint);
    if (length < 0 || codepoint == 0) return static_cast<size_t>(offset);
    offset += length;
  }
  return std::nullopt;
}

H5Id copy_type(hid_t predefined, const H5Where& where) {
  return h5_own(H5Tcopy(predefined), H5Kind::kDatatype, where, "copy type");
}

}  // namespace

GroupWriter::GroupWriter(std::string path, PartialGroup group, std::shared_ptr<StagedFile> staged)
    : path_(std::move(path)), staged_(std::move(staged)), group_(std::move(group)) {}

H5Where GroupWriter::where(const std::string& object) const {
  const std::string& group = group_.where().object;
  return {path_, object.empty() ? group : group + "/" + object};
}

H5Id GroupWriter::open_object(const std::string& object) const {
  const H5Where where = this->where(object);
  const hid_t group = this->group();
  if (!object.empty() && !h5_path_exists(group, object, where)) {
    throw InvalidInput(where.str() + ": no such dataset or group");
  }
  return h5_own(H5Oopen(group, object.empty() ? "." : object.c_str(), H5P_DEFAULT), H5Kind::kObject,
                where, "open object");
}

void GroupWriter::set_attribute(const std::string& object, const std::string& name, int64_t value) {
  const std::lock_guard<std::recursive_mutex> hdf5(hdf5_lock());
  const H5Where where = this->where(object);
  H5Id target = open_object(object);
  check_hdf5_text(name, where, "attribute name");
  h5_write_int_attribute(target.get(), name, value, where);
}

void GroupWriter::set_attribute(const std::string& object, const std::string& name, double value) {
  const std::lock_guard<std::recursive_mutex> hdf5(hdf5_lock());
  const H5Where where = this->where(object);
  H5Id target = open_object(object);
  check_hdf5_text(name, where, "attribute name");
  h5_write_double_attribute(target.get(), name, value, where);
}

void GroupWriter::set_attribute(const std::string& object, const std::string& name,
                                const std::string& value) {
  const std::lock_guard<std::recursive_mutex> hdf5(hdf5_lock());
  const H5Where where = this->where(object);
  H5Id target = open_object(object);
  check_hdf5_text(name, where, "attribute name");
  check_hdf5_text(value, where, "attribute '" + name + "'");
  h5_write_string_attribute(target.get(), name, value, where);
}

void GroupWriter::set_attribute(const std::string& object, const std::string& name,
                                const std::vector<double>& values) {
  const std::lock_guard<std::recursive_mutex> hdf5(hdf5_lock());
  write_list_attribute(object, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, values.size(),
                       values.data());
}

void GroupWriter::set_attribute(const std::string& object, const std::string& name,
                                const std::vector<int64_t>& values) {
  const std::lock_guard<std::recursive_mutex> hdf5(hdf5_lock());
  write_list_attribute(object, name, H5T_STD_I64LE, H5T_NATIVE_INT64, values.size(), values.data());
}

void GroupWriter::write_list_attribute(const std::string& object, const std::string& name,
                                       hid_t file_type, hid_t memory_type, size_t count,
                                       const void* data) {
  const H5Where where = this->where(object);
  H5Id target = open_object(object);
  check_hdf5_text(name, where, "attribute name");
  const H5Where at{where.file, where.object + " attribute '" + name + "'"};
  if (h5_check(H5Aexists(target.get(), name.c_str()), at, "look up attribute") > 0) {
    h5_check(H5Adelete(target.get(), name.c_str()), at, "replace attribute");
  }
  const hsize_t dims[1] = {count};
  H5Id space =
      h5_own(H5Screate_simple(1, dims, nullptr), H5Kind::kDataspace, at, "create dataspace");
  H5Id attribute = h5_own(
      H5Acreate2(target.get(), name.c_str(), file_type, space.get(), H5P_DEFAULT, H5P_DEFAULT),
      H5Kind::kAttribute, at, "create attribute");
  if (count > 0) h5_check(H5Awrite(attribute.get(), memory_type, data), at, "write attribute");
}

H5Id GroupWriter::write_string_dataset(const std::string& name,
                                       const std::vector<std::string>& values,
                                       const std::string& element, const H5Where& where) {
  std::vector<const char*> pointers;
  pointers.reserve(values.size());
  for (const std::string& value : values) {
    // The message is built only for the value that fails: token_text may hold 100k tokens.
    if (bad_text_byte(value)) {
      check_hdf5_text(value, where, element + " " + std::to_string(pointers.size()));
    }
    pointers.push_back(value.c_str());
  }
  H5Id type = h5_utf8_string_type(where);
  H5Id dataset =
      create_recording_dataset(group(), name, type.get(), {values.size()}, where, compression_);
  if (!values.empty()) {
    h5_check(H5Dwrite(dataset.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, pointers.data()),
             where, "write dataset");
  }
  return dataset;
}

H5Id GroupWriter::write_int64_scale(const std::string& dimension,
                                    const std::vector<int64_t>& values, const H5Where& where) {
  H5Id type = recording_file_type(DType::kI64, where);
  H5Id scale = create_recording_dataset(group(), dimension, type.get(), {values.size()}, where,
                                        compression_);
  if (!values.empty()) {
    h5_check(H5Dwrite(scale.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()),
             where, "write dimension scale");
  }
  make_dimension_scale(scale.get(), dimension, where);
  return scale;
}

void check_hdf5_text(const std::string& text, const H5Where& where, const std::string& what) {
  if (std::optional<size_t> offset = bad_text_byte(text)) {
    throw InvalidInput(where.str() + ": " + what + " must be UTF-8 without NUL bytes; byte " +
                       std::to_string(*offset) + " is not");
  }
}

void check_object_path(const std::string& name, const H5Where& where) {
  bool valid = !name.empty();
  size_t start = 0;
  while (valid) {
    const size_t end = std::min(name.find('/', start), name.size());
    const std::string component = name.substr(start, end - start);
    valid = !component.empty() && component != ".";
    if (end == name.size()) break;
    start = end + 1;
  }
  if (!valid) {
    throw InvalidInput(where.str() + ": invalid dataset name '" + name +
                       "' (need non-empty '/'-separated parts)");
  }
}

std::vector<hsize_t> checked_dims(const std::vector<int64_t>& shape, const H5Where& where) {
  std::vector<hsize_t> dims;
  for (size_t axis = 0; axis < shape.size(); ++axis) {
    if (shape[axis] < 0) {
      throw InvalidInput(where.str() + ": dimension " + std::to_string(axis) + " is negative (" +
                         std::to_string(shape[axis]) + ")");
    }
    dims.push_back(static_cast<hsize_t>(shape[axis]));
  }
  return dims;
}

H5Id recording_file_type(DType dtype, const H5Where& where) {
  switch (dtype) {
    case DType::kF64:
      return copy_type(H5T_IEEE_F64LE, where);
    case DType::kF32:
      return copy_type(H5T_IEEE_F32LE, where);
    case DType::kF16:
      return float16_file_type(where);
    case DType::kI32:
      return copy_type(H5T_STD_I32LE, where);
    case DType::kI64:
      return copy_type(H5T_STD_I64LE, where);
    default:
      throw InvalidInput(where.str() + ": cannot store " + dtype_name(dtype) +
                         " in a recording (float64, float32, float16, int32 or int64 only)");
  }
}

hid_t recording_memory_type(DType dtype, hid_t stored_type) {
  switch (dtype) {
    case DType::kF64:
      return H5T_NATIVE_DOUBLE;
    case DType::kF32:
      return H5T_NATIVE_FLOAT;
    case DType::kI32:
      return H5T_NATIVE_INT32;
    case DType::kI64:
      return H5T_NATIVE_INT64;
    default:
      return stored_type;
  }
}

H5Id create_recording_dataset(hid_t group, const std::string& name, hid_t type,
                              const std::vector<hsize_t>& dims, const H5Where& where,
                              const Compression& compression) {
  H5Id space = h5_own(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
                      H5Kind::kDataspace, where, "create dataspace");
  H5Id creation =
      h5_own(H5Pcreate(H5P_DATASET_CREATE), H5Kind::kPropList, where, "create dataset properties");
  // HDF5 rejects chunks with a zero extent, and filters need chunks.
  const bool chunked = !dims.empty() && std::find(dims.begin(), dims.end(), 0) == dims.end();
  if (chunked) {
    const std::vector<hsize_t> chunk = recording_chunk_shape(dims);
    h5_check(H5Pset_chunk(creation.get(), static_cast<int>(chunk.size()), chunk.data()), where,
             "set chunk shape");
    if (compression.kind == Compression::Kind::kDeflate) {
      h5_check(H5Pset_shuffle(creation.get()), where, "enable shuffle");
      h5_check(H5Pset_deflate(creation.get(), static_cast<unsigned>(compression.level)), where,
               "enable deflate");
    }
  }
  H5Id link =
      h5_own(H5Pcreate(H5P_LINK_CREATE), H5Kind::kPropList, where, "create link properties");
  h5_check(H5Pset_create_intermediate_group(link.get(), 1), where, "allow nested names");
  return h5_own(
      H5Dcreate2(group, name.c_str(), type, space.get(), link.get(), creation.get(), H5P_DEFAULT),
      H5Kind::kDataset, where, "create dataset");
}

std::vector<hsize_t> recording_chunk_shape(const std::vector<hsize_t>& dims) {
  if (dims.size() == 1) return {std::min<hsize_t>(dims[0], kChunkLength1d)};
  std::vector<hsize_t> chunk(dims.size(), 1);
  for (size_t axis = dims.size() - 2; axis < dims.size(); ++axis) {
    chunk[axis] = std::min<hsize_t>(dims[axis], kChunkEdge);
  }
  return chunk;
}

void make_dimension_scale(hid_t dataset, const std::string& dimension, const H5Where& where) {
  h5_check(H5DSset_scale(dataset, dimension.c_str()), where, "make dimension scale");
}

void attach_dimension_scale(hid_t dataset, hid_t scale, unsigned axis, const std::string& dimension,
                            const H5Where& where) {
  h5_check(H5DSattach_scale(dataset, scale, axis), where, "attach dimension scale " + dimension);
  h5_check(H5DSset_label(dataset, axis, dimension.c_str()), where,
           "label axis " + std::to_string(axis));
}

}  // namespace headscope
