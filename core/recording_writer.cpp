#include "core/recording_writer.h"

#include <utf8proc.h>

#include <algorithm>
#include <optional>
#include <utility>

#include "core/error.h"
#include "core/float16.h"
#include "core/hdf5_attribute.h"

namespace headscope {
namespace {

// Elements converted to float16 per write: bounds the temporary buffer at 32 MiB.
constexpr hsize_t kSlabElements = hsize_t{1} << 24;

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

void check_text(const std::string& text, const H5Where& where, const std::string& what) {
  if (std::optional<size_t> offset = bad_text_byte(text)) {
    throw InvalidInput(where.str() + ": " + what + " must be UTF-8 without NUL bytes; byte " +
                       std::to_string(*offset) + " is not");
  }
}

void check_dataset_name(const std::string& name, const H5Where& where) {
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

H5Id copy_type(hid_t predefined, const H5Where& where) {
  return h5_own(H5Tcopy(predefined), H5Kind::kDatatype, where, "copy type");
}

H5Id file_type(DType dtype, const H5Where& where) {
  switch (dtype) {
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
                         " in a recording (float32, float16, int32 or int64 only)");
  }
}

// Memory type of data already in the file's dtype; float16 bits are laid out as in the file
// (little-endian hosts only, like every machine headscope targets).
hid_t memory_type(DType dtype, hid_t stored_type) {
  switch (dtype) {
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

// Leading dimensions 1 and the last two up to kChunkEdge, so one head's [T, T] map is a run of
// whole chunks; rank 1 up to kChunkLength1d.
std::vector<hsize_t> chunk_shape(const std::vector<hsize_t>& dims) {
  if (dims.size() == 1) return {std::min<hsize_t>(dims[0], kChunkLength1d)};
  std::vector<hsize_t> chunk(dims.size(), 1);
  for (size_t axis = dims.size() - 2; axis < dims.size(); ++axis) {
    chunk[axis] = std::min<hsize_t>(dims[axis], kChunkEdge);
  }
  return chunk;
}

H5Id create_dataset(hid_t group, const std::string& name, hid_t type,
                    const std::vector<hsize_t>& dims, const H5Where& where) {
  H5Id space = h5_own(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
                      H5Kind::kDataspace, where, "create dataspace");
  H5Id creation =
      h5_own(H5Pcreate(H5P_DATASET_CREATE), H5Kind::kPropList, where, "create dataset properties");
  // HDF5 rejects chunks with a zero extent, and filters need chunks.
  const bool chunked = !dims.empty() && std::find(dims.begin(), dims.end(), 0) == dims.end();
  if (chunked) {
    const std::vector<hsize_t> chunk = chunk_shape(dims);
    h5_check(H5Pset_chunk(creation.get(), static_cast<int>(chunk.size()), chunk.data()), where,
             "set chunk shape");
    h5_check(H5Pset_shuffle(creation.get()), where, "enable shuffle");
    h5_check(H5Pset_deflate(creation.get(), kDeflateLevel), where, "enable deflate");
  }
  H5Id link =
      h5_own(H5Pcreate(H5P_LINK_CREATE), H5Kind::kPropList, where, "create link properties");
  h5_check(H5Pset_create_intermediate_group(link.get(), 1), where, "allow nested names");
  return h5_own(
      H5Dcreate2(group, name.c_str(), type, space.get(), link.get(), creation.get(), H5P_DEFAULT),
      H5Kind::kDataset, where, "create dataset");
}

// Converts in slabs of whole chunk rows along the first axis: the buffer stays bounded and no
// compressed chunk is split between two writes (HDF5 would read it back and rewrite it).
void write_as_float16(hid_t dataset, hid_t type, const std::vector<hsize_t>& dims,
                      const float* data, const H5Where& where) {
  if (dims.empty()) {
    const uint16_t value = float16_from_f32(*data);
    h5_check(H5Dwrite(dataset, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, &value), where,
             "write dataset");
    return;
  }
  hsize_t row_elements = 1;
  for (size_t axis = 1; axis < dims.size(); ++axis) row_elements *= dims[axis];
  const hsize_t chunk_rows = chunk_shape(dims)[0];
  const hsize_t slab_rows = std::min(
      dims[0], std::max<hsize_t>(1, kSlabElements / row_elements / chunk_rows) * chunk_rows);
  std::vector<uint16_t> buffer(slab_rows * row_elements);
  H5Id file_space = h5_own(H5Dget_space(dataset), H5Kind::kDataspace, where, "read dataspace");
  std::vector<hsize_t> start(dims.size(), 0);
  std::vector<hsize_t> count = dims;
  for (hsize_t row = 0; row < dims[0]; row += slab_rows) {
    start[0] = row;
    count[0] = std::min(slab_rows, dims[0] - row);
    const hsize_t n = count[0] * row_elements;
    const float* source = data + row * row_elements;
    for (hsize_t i = 0; i < n; ++i) buffer[i] = float16_from_f32(source[i]);
    h5_check(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start.data(), nullptr,
                                 count.data(), nullptr),
             where, "select rows");
    H5Id memory_space =
        h5_own(H5Screate_simple(static_cast<int>(count.size()), count.data(), nullptr),
               H5Kind::kDataspace, where, "create dataspace");
    h5_check(
        H5Dwrite(dataset, type, memory_space.get(), file_space.get(), H5P_DEFAULT, buffer.data()),
        where, "write dataset");
  }
}

}  // namespace

RunWriter::RunWriter(std::string path, H5Id runs, H5Id group, int64_t index)
    : path_(std::move(path)), runs_(std::move(runs)), group_(std::move(group)), index_(index) {}

RunWriter::~RunWriter() {
  if (!group_) return;
  group_.reset();
  // Best effort: a partial group that survives is skipped by readers and deleted by the next
  // open_append.
  if (H5Ldelete(runs_.get(), partial_run_name(index_).c_str(), H5P_DEFAULT) < 0) {
    H5Eclear2(H5E_DEFAULT);
  }
}

H5Where RunWriter::where(const std::string& name) const {
  // Named by the path the run will have: the one users look for after the recording.
  const std::string run = std::string(kRunsGroup) + "/" + std::to_string(index_);
  return {path_, name.empty() ? run : run + "/" + name};
}

void RunWriter::write_tokens(const std::vector<int32_t>& tokens) {
  write_array(kTokens, DType::kI32, {static_cast<int64_t>(tokens.size())}, DType::kI32,
              tokens.data());
}

void RunWriter::write_token_text(const std::vector<std::string>& text) {
  HS_ASSERT(group_ && "RunWriter used after commit");
  const H5Where where = this->where(kTokenText);
  std::vector<const char*> pointers;
  pointers.reserve(text.size());
  for (const std::string& token : text) {
    if (bad_text_byte(token)) check_text(token, where, "token " + std::to_string(pointers.size()));
    pointers.push_back(token.c_str());
  }
  H5Id type = h5_utf8_string_type(where);
  H5Id dataset = create_dataset(group_.get(), kTokenText, type.get(), {text.size()}, where);
  if (text.empty()) return;
  h5_check(H5Dwrite(dataset.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, pointers.data()),
           where, "write dataset");
}

void RunWriter::set_attribute(const std::string& name, const std::string& value) {
  HS_ASSERT(group_ && "RunWriter used after commit");
  const H5Where where = this->where("");
  check_text(name, where, "attribute name");
  check_text(value, where, "attribute '" + name + "'");
  h5_write_string_attribute(group_.get(), name, value, where);
}

void RunWriter::write_array(const std::string& name, DType file_dtype,
                            const std::vector<int64_t>& shape, DType data_dtype, const void* data) {
  HS_ASSERT(group_ && "RunWriter used after commit");
  const H5Where where = this->where(name);
  check_dataset_name(name, where);
  if (data_dtype != file_dtype && !(data_dtype == DType::kF32 && file_dtype == DType::kF16)) {
    throw InvalidInput(where.str() + ": cannot store " + dtype_name(data_dtype) + " data as " +
                       dtype_name(file_dtype));
  }
  std::vector<hsize_t> dims;
  hsize_t elements = 1;
  for (size_t axis = 0; axis < shape.size(); ++axis) {
    if (shape[axis] < 0) {
      throw InvalidInput(where.str() + ": dimension " + std::to_string(axis) + " is negative (" +
                         std::to_string(shape[axis]) + ")");
    }
    dims.push_back(static_cast<hsize_t>(shape[axis]));
    elements *= dims.back();
  }
  HS_ASSERT(elements == 0 || data != nullptr);
  H5Id type = file_type(file_dtype, where);
  H5Id dataset = create_dataset(group_.get(), name, type.get(), dims, where);
  if (elements == 0) return;
  if (data_dtype != file_dtype) {
    write_as_float16(dataset.get(), type.get(), dims, static_cast<const float*>(data), where);
    return;
  }
  h5_check(H5Dwrite(dataset.get(), memory_type(file_dtype, type.get()), H5S_ALL, H5S_ALL,
                    H5P_DEFAULT, data),
           where, "write dataset");
}

void RunWriter::commit() {
  HS_ASSERT(group_ && "RunWriter committed twice");
  const H5Where where = this->where("");
  h5_check(H5Lmove(runs_.get(), partial_run_name(index_).c_str(), runs_.get(),
                   std::to_string(index_).c_str(), H5P_DEFAULT, H5P_DEFAULT),
           where, "commit run");
  group_.reset();
  h5_check(H5Fflush(runs_.get(), H5F_SCOPE_LOCAL), where, "flush file");
}

RecordingWriter::RecordingWriter(std::string path, H5Id file, H5Id runs)
    : path_(std::move(path)), file_(std::move(file)), runs_(std::move(runs)) {}

RecordingWriter RecordingWriter::create(const std::string& path, const ModelSummary& model) {
  h5_init();
  const H5Where root{path, "/"};
  const H5Where config{path, kConfigJsonPath};
  // Checked before the file is replaced, so bad input leaves an existing file alone.
  check_text(model.family, root, kAttrModelFamily);
  check_text(model.model_path, root, kAttrModelPath);
  check_text(model.config_json, config, "config text");

  H5Id file = h5_own(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT),
                     H5Kind::kFile, {path, ""}, "create file");
  h5_write_int_attribute(file.get(), kAttrFormat, kFormatVersion, root);
  h5_write_string_attribute(file.get(), kAttrModelFamily, model.family, root);
  for (const ModelIntAttribute& attribute : kModelIntAttributes) {
    h5_write_int_attribute(file.get(), attribute.name, model.*attribute.field, root);
  }
  h5_write_string_attribute(file.get(), kAttrModelPath, model.model_path, root);

  H5Id model_group =
      h5_own(H5Gcreate2(file.get(), kModelGroup, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
             H5Kind::kGroup, {path, kModelGroup}, "create group");
  H5Id type = h5_utf8_string_type(config);
  H5Id scalar = h5_own(H5Screate(H5S_SCALAR), H5Kind::kDataspace, config, "create dataspace");
  H5Id config_json = h5_own(H5Dcreate2(file.get(), kConfigJsonPath, type.get(), scalar.get(),
                                       H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                            H5Kind::kDataset, config, "create dataset");
  const char* config_text = model.config_json.c_str();
  h5_check(H5Dwrite(config_json.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, &config_text),
           config, "write dataset");

  H5Id runs = h5_own(H5Gcreate2(file.get(), kRunsGroup, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                     H5Kind::kGroup, {path, kRunsGroup}, "create group");
  h5_check(H5Fflush(file.get(), H5F_SCOPE_LOCAL), {path, ""}, "flush file");
  return RecordingWriter(path, std::move(file), std::move(runs));
}

RecordingWriter RecordingWriter::open_append(const std::string& path) {
  h5_init();
  H5Id file = open_recording_file(path, H5F_ACC_RDWR);
  check_format_version(file.get(), path);
  const H5Where where{path, kRunsGroup};
  H5Id runs =
      h5_own(H5Gopen2(file.get(), kRunsGroup, H5P_DEFAULT), H5Kind::kGroup, where, "open group");
  for (const std::string& name : partial_runs(runs.get(), where)) {
    h5_check(H5Ldelete(runs.get(), name.c_str(), H5P_DEFAULT), where,
             "delete interrupted run " + name);
  }
  return RecordingWriter(path, std::move(file), std::move(runs));
}

RunWriter RecordingWriter::begin_run() {
  const H5Where where{path_, kRunsGroup};
  const std::vector<int64_t> committed = committed_runs(runs_.get(), where);
  int64_t index = committed.empty() ? 0 : committed.back() + 1;
  // Partial groups here belong to runs of this writer still in progress.
  while (h5_check(H5Lexists(runs_.get(), partial_run_name(index).c_str(), H5P_DEFAULT), where,
                  "look up run") > 0) {
    ++index;
  }
  H5Id group = h5_own(H5Gcreate2(runs_.get(), partial_run_name(index).c_str(), H5P_DEFAULT,
                                 H5P_DEFAULT, H5P_DEFAULT),
                      H5Kind::kGroup, where, "create run group");
  H5Id runs =
      h5_own(H5Gopen2(file_.get(), kRunsGroup, H5P_DEFAULT), H5Kind::kGroup, where, "open group");
  return RunWriter(path_, std::move(runs), std::move(group), index);
}

int64_t RecordingWriter::run_count() const {
  return static_cast<int64_t>(committed_runs(runs_.get(), {path_, kRunsGroup}).size());
}

}  // namespace headscope
