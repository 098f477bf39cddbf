#include "core/store/recording_writer.h"

#include <hdf5_hl.h>
#include <utf8proc.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <optional>
#include <utility>

#include "core/base/error.h"
#include "core/base/float16.h"
#include "core/store/hdf5_attribute.h"
#include "core/store/same_model.h"

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

void check_dataset_name(const std::string& name, const H5Where& where) {
  check_object_path(name, where);
  if (is_dimension_name(name)) {
    throw InvalidInput(where.str() + ": '" + name + "' is reserved for the dimension scale");
  }
}

void check_conversion(DType data_dtype, DType file_dtype, const H5Where& where) {
  if (data_dtype != file_dtype && !(data_dtype == DType::kF32 && file_dtype == DType::kF16)) {
    throw InvalidInput(where.str() + ": cannot store " + dtype_name(data_dtype) + " data as " +
                       dtype_name(file_dtype));
  }
}

H5Id copy_type(hid_t predefined, const H5Where& where) {
  return h5_own(H5Tcopy(predefined), H5Kind::kDatatype, where, "copy type");
}

// The DType of a dataset's file type, among those recording_file_type makes.
DType stored_dtype(hid_t type, const H5Where& where) {
  const H5T_class_t type_class = H5Tget_class(type);
  const size_t size = H5Tget_size(type);
  if (type_class == H5T_FLOAT && size == 8) return DType::kF64;
  if (type_class == H5T_FLOAT && size == 4) return DType::kF32;
  if (type_class == H5T_FLOAT && size == 2) return DType::kF16;
  if (type_class == H5T_INTEGER && size == 4) return DType::kI32;
  if (type_class == H5T_INTEGER && size == 8) return DType::kI64;
  throw InvalidInput(where.str() + ": not a float64, float32, float16, int32 or int64 dataset");
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

// Writes data, count's product of elements of data_dtype, to the box [start, start + count).
// float32 data for a float16 dataset is converted in pieces of whole chunk rows along the first
// axis: the buffer stays bounded and no compressed chunk is split between two writes (HDF5
// would read it back and rewrite it).
void write_box(hid_t dataset, hid_t type, DType file_dtype, DType data_dtype,
               const std::vector<hsize_t>& dims, const std::vector<hsize_t>& start,
               const std::vector<hsize_t>& count, const void* data, const H5Where& where) {
  const bool convert = data_dtype != file_dtype;
  if (dims.empty()) {
    // A scalar has no hyperslab to select.
    const uint16_t half = convert ? float16_from_f32(*static_cast<const float*>(data)) : 0;
    h5_check(H5Dwrite(dataset, recording_memory_type(file_dtype, type), H5S_ALL, H5S_ALL,
                      H5P_DEFAULT, convert ? static_cast<const void*>(&half) : data),
             where, "write dataset");
    return;
  }
  hsize_t row_elements = 1;
  for (size_t axis = 1; axis < dims.size(); ++axis) row_elements *= count[axis];
  const hsize_t end_row = start[0] + count[0];
  hsize_t piece_rows = 0;
  std::vector<uint16_t> buffer;
  if (convert) {
    const hsize_t chunk_rows = chunk_shape(dims)[0];
    piece_rows = std::max<hsize_t>(1, kSlabElements / row_elements / chunk_rows) * chunk_rows;
    buffer.resize(std::min(piece_rows, count[0]) * row_elements);
  }
  H5Id file_space = h5_own(H5Dget_space(dataset), H5Kind::kDataspace, where, "read dataspace");
  std::vector<hsize_t> piece_start = start;
  std::vector<hsize_t> piece_count = count;
  for (hsize_t row = start[0]; row < end_row; row = piece_start[0] + piece_count[0]) {
    // Converted pieces end on multiples of piece_rows, which are chunk boundaries.
    piece_start[0] = row;
    piece_count[0] =
        convert ? std::min(end_row, (row / piece_rows + 1) * piece_rows) - row : count[0];
    h5_check(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, piece_start.data(), nullptr,
                                 piece_count.data(), nullptr),
             where, "select box");
    H5Id memory_space =
        h5_own(H5Screate_simple(static_cast<int>(piece_count.size()), piece_count.data(), nullptr),
               H5Kind::kDataspace, where, "create dataspace");
    const void* source = data;
    if (convert) {
      const float* floats = static_cast<const float*>(data) + (row - start[0]) * row_elements;
      const hsize_t n = piece_count[0] * row_elements;
      for (hsize_t i = 0; i < n; ++i) buffer[i] = float16_from_f32(floats[i]);
      source = buffer.data();
    }
    h5_check(H5Dwrite(dataset, recording_memory_type(file_dtype, type), memory_space.get(),
                      file_space.get(), H5P_DEFAULT, source),
             where, "write dataset");
  }
}

// The strings of the root attributes, checked before any file is made.
void check_model_text(const std::string& path, const ModelSummary& model) {
  check_hdf5_text(model.family, {path, "/"}, kAttrModelFamily);
  check_hdf5_text(model.model_path, {path, "/"}, kAttrModelPath);
  check_hdf5_text(model.config_json, {path, kConfigJsonPath}, "config text");
}

}  // namespace

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

H5Id open_child_object(hid_t group, const std::string& object, const H5Where& where) {
  if (!object.empty() && !h5_path_exists(group, object, where)) {
    throw InvalidInput(where.str() + ": no such dataset or group");
  }
  return h5_own(H5Oopen(group, object.empty() ? "." : object.c_str(), H5P_DEFAULT), H5Kind::kObject,
                where, "open object");
}

void write_checked_attribute(hid_t target, const H5Where& where, const std::string& name,
                             int64_t value) {
  check_hdf5_text(name, where, "attribute name");
  h5_write_int_attribute(target, name, value, where);
}
void write_checked_attribute(hid_t target, const H5Where& where, const std::string& name,
                             double value) {
  check_hdf5_text(name, where, "attribute name");
  h5_write_double_attribute(target, name, value, where);
}
void write_checked_attribute(hid_t target, const H5Where& where, const std::string& name,
                             const std::string& value) {
  check_hdf5_text(name, where, "attribute name");
  check_hdf5_text(value, where, "attribute '" + name + "'");
  h5_write_string_attribute(target, name, value, where);
}

RunWriter::RunWriter(std::string path, H5Id runs, H5Id group, int64_t index,
                     std::shared_ptr<StagedFile> staged)
    : path_(std::move(path)),
      runs_(std::move(runs)),
      group_(std::move(group)),
      index_(index),
      staged_(std::move(staged)) {}

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
    if (bad_text_byte(token))
      check_hdf5_text(token, where, "token " + std::to_string(pointers.size()));
    pointers.push_back(token.c_str());
  }
  H5Id type = h5_utf8_string_type(where);
  H5Id dataset =
      create_recording_dataset(group_.get(), kTokenText, type.get(), {text.size()}, where);
  if (text.empty()) return;
  h5_check(H5Dwrite(dataset.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, pointers.data()),
           where, "write dataset");
}

void RunWriter::set_attribute(const std::string& name, const std::string& value) {
  set_attribute("", name, value);
}

void RunWriter::set_attribute(const std::string& object, const std::string& name, int64_t value) {
  write_checked_attribute(open_object(object).get(), where(object), name, value);
}

void RunWriter::set_attribute(const std::string& object, const std::string& name, double value) {
  write_checked_attribute(open_object(object).get(), where(object), name, value);
}

void RunWriter::set_attribute(const std::string& object, const std::string& name,
                              const std::string& value) {
  write_checked_attribute(open_object(object).get(), where(object), name, value);
}

H5Id RunWriter::open_object(const std::string& object) const {
  HS_ASSERT(group_ && "RunWriter used after commit");
  return open_child_object(group_.get(), object, where(object));
}

void RunWriter::write_array(const std::string& name, DType file_dtype,
                            const std::vector<int64_t>& shape, DType data_dtype, const void* data) {
  HS_ASSERT(group_ && "RunWriter used after commit");
  const H5Where where = this->where(name);
  check_dataset_name(name, where);
  check_conversion(data_dtype, file_dtype, where);
  const std::vector<hsize_t> dims = checked_dims(shape, where);
  H5Id type = recording_file_type(file_dtype, where);
  H5Id dataset = create_recording_dataset(group_.get(), name, type.get(), dims, where);
  if (std::find(dims.begin(), dims.end(), 0) != dims.end()) return;
  HS_ASSERT(data != nullptr);
  write_box(dataset.get(), type.get(), file_dtype, data_dtype, dims,
            std::vector<hsize_t>(dims.size(), 0), dims, data, where);
}

void RunWriter::create_array(const std::string& name, DType file_dtype,
                             const std::vector<int64_t>& shape) {
  HS_ASSERT(group_ && "RunWriter used after commit");
  const H5Where where = this->where(name);
  check_dataset_name(name, where);
  const std::vector<hsize_t> dims = checked_dims(shape, where);
  H5Id type = recording_file_type(file_dtype, where);
  create_recording_dataset(group_.get(), name, type.get(), dims, where);
}

void RunWriter::write_slab(const std::string& name, const std::vector<int64_t>& start,
                           const std::vector<int64_t>& count, DType data_dtype, const void* data) {
  HS_ASSERT(group_ && "RunWriter used after commit");
  const H5Where where = this->where(name);
  if (!h5_path_exists(group_.get(), name, where)) {
    throw InvalidInput(where.str() + ": no such dataset (create_array makes it)");
  }
  H5Id dataset = h5_own(H5Dopen2(group_.get(), name.c_str(), H5P_DEFAULT), H5Kind::kDataset, where,
                        "open dataset");
  H5Id type = h5_own(H5Dget_type(dataset.get()), H5Kind::kDatatype, where, "read type");
  const DType file_dtype = stored_dtype(type.get(), where);
  check_conversion(data_dtype, file_dtype, where);
  const std::vector<hsize_t> dims = h5_dataset_dims(dataset.get(), where);
  if (start.size() != dims.size() || count.size() != dims.size()) {
    throw InvalidInput(where.str() + ": a slab of this dataset needs " +
                       std::to_string(dims.size()) + " start and count values");
  }
  bool empty = false;
  for (size_t axis = 0; axis < dims.size(); ++axis) {
    const auto dim = static_cast<int64_t>(dims[axis]);
    if (start[axis] < 0 || count[axis] < 0 || start[axis] > dim ||
        count[axis] > dim - start[axis]) {
      throw InvalidInput(where.str() + ": slab [" + std::to_string(start[axis]) + ", " +
                         std::to_string(start[axis] + count[axis]) + ") of axis " +
                         std::to_string(axis) + " is outside [0, " + std::to_string(dim) + ")");
    }
    empty = empty || count[axis] == 0;
  }
  if (empty) return;
  HS_ASSERT(data != nullptr);
  write_box(dataset.get(), type.get(), file_dtype, data_dtype, dims,
            std::vector<hsize_t>(start.begin(), start.end()),
            std::vector<hsize_t>(count.begin(), count.end()), data, where);
}

void RunWriter::commit() {
  HS_ASSERT(group_ && "RunWriter committed twice");
  const H5Where where = this->where("");
  attach_dimension_scales();
  h5_check(H5Lmove(runs_.get(), partial_run_name(index_).c_str(), runs_.get(),
                   std::to_string(index_).c_str(), H5P_DEFAULT, H5P_DEFAULT),
           where, "commit run");
  group_.reset();
  h5_check(H5Fflush(runs_.get(), H5F_SCOPE_LOCAL), where, "flush file");
  // The file is complete up to this run: a new one goes to its name, where a crash from now on
  // leaves it readable; a replacement stays beside the old file until finish(), and is kept.
  if (staged_ && !staged_->published()) {
    if (staged_->kind() == StagedFile::Target::kNew) {
      staged_->publish();
    } else {
      staged_->keep_if_interrupted();
    }
  }
  staged_.reset();
}

void RunWriter::attach_dimension_scales() {
  // Which datasets get which scales, and each dimension's length.
  struct Scaled {
    std::string name;
    std::vector<std::string> dimensions;
  };
  std::vector<Scaled> scaled;
  std::map<std::string, hsize_t> lengths;
  for (const std::string& name : dataset_paths(group_.get(), where(""))) {
    std::vector<std::string> dimensions = dataset_dimensions(name);
    if (dimensions.empty()) continue;
    const H5Where where = this->where(name);
    H5Id dataset = h5_own(H5Dopen2(group_.get(), name.c_str(), H5P_DEFAULT), H5Kind::kDataset,
                          where, "open dataset");
    const std::vector<hsize_t> dims = h5_dataset_dims(dataset.get(), where);
    if (dims.size() != dimensions.size()) continue;
    bool agrees = true;
    for (size_t axis = 0; axis < dims.size(); ++axis) {
      const auto known = lengths.find(dimensions[axis]);
      agrees = agrees && (known == lengths.end() || known->second == dims[axis]);
    }
    if (!agrees) continue;
    for (size_t axis = 0; axis < dims.size(); ++axis) lengths.emplace(dimensions[axis], dims[axis]);
    scaled.push_back({name, std::move(dimensions)});
  }
  if (scaled.empty()) return;

  int64_t block_size = 1;
  if (lengths.count(kDimQueryBlock) + lengths.count(kDimKeyBlock) > 0) {
    const H5Where stats = where(kAttentionStats);
    H5Id group = h5_own(H5Gopen2(group_.get(), kAttentionStats, H5P_DEFAULT), H5Kind::kGroup, stats,
                        "open group");
    const std::optional<int64_t> stored = h5_read_int_attribute(group.get(), kAttrBlockSize, stats);
    if (!stored || *stored < 1) {
      throw InvalidInput(stats.str() + ": block_mass needs a positive integer attribute " +
                         kAttrBlockSize);
    }
    block_size = *stored;
  }

  std::map<std::string, H5Id> scales;
  for (const auto& [dimension, length] : lengths) {
    const H5Where where = this->where(dimension);
    const int64_t step = dimension == kDimQueryBlock || dimension == kDimKeyBlock ? block_size : 1;
    std::vector<int64_t> values(length);
    for (hsize_t i = 0; i < length; ++i) values[i] = static_cast<int64_t>(i) * step;
    H5Id type = recording_file_type(DType::kI64, where);
    H5Id scale = create_recording_dataset(group_.get(), dimension, type.get(), {length}, where);
    if (length > 0) {
      h5_check(
          H5Dwrite(scale.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()),
          where, "write dataset");
    }
    h5_check(H5DSset_scale(scale.get(), dimension.c_str()), where, "make dimension scale");
    scales.emplace(dimension, std::move(scale));
  }
  for (const Scaled& entry : scaled) {
    const H5Where where = this->where(entry.name);
    H5Id dataset = h5_own(H5Dopen2(group_.get(), entry.name.c_str(), H5P_DEFAULT), H5Kind::kDataset,
                          where, "open dataset");
    for (unsigned axis = 0; axis < entry.dimensions.size(); ++axis) {
      const std::string& dimension = entry.dimensions[axis];
      h5_check(H5DSattach_scale(dataset.get(), scales.at(dimension).get(), axis), where,
               "attach dimension scale " + dimension);
      h5_check(H5DSset_label(dataset.get(), axis, dimension.c_str()), where,
               "label axis " + std::to_string(axis));
    }
  }
}

RecordingWriter::RecordingWriter(std::string path, H5Id file, H5Id runs)
    : path_(std::move(path)), file_(std::move(file)), runs_(std::move(runs)) {}

RecordingWriter RecordingWriter::open(const std::string& path, const ModelSummary& model,
                                      OutputMode mode) {
  if (mode == OutputMode::kAppend) return open_append(path, model);
  h5_init();
  check_model_text(path, model);
  auto staged = std::make_shared<StagedFile>(
      path, mode == OutputMode::kNew ? StagedFile::Target::kNew : StagedFile::Target::kReplace);
  RecordingWriter writer = create(staged->path(), model);
  // Messages name the file users asked for.
  writer.path_ = path;
  writer.staged_ = std::move(staged);
  return writer;
}

RecordingWriter RecordingWriter::create(const std::string& path, const ModelSummary& model) {
  h5_init();
  const H5Where root{path, "/"};
  const H5Where config{path, kConfigJsonPath};
  check_model_text(path, model);
  if (std::filesystem::exists(path)) {
    throw InvalidInput(path + " exists; RecordingWriter::create never replaces a file");
  }
  // EXCL: a file made since the check is not truncated either.
  H5Id file = h5_own(H5Fcreate(path.c_str(), H5F_ACC_EXCL, H5P_DEFAULT, H5P_DEFAULT),
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

RecordingWriter RecordingWriter::open_append(const std::string& path, const ModelSummary& model) {
  h5_init();
  // Both before opening for writing: a clear message instead of HDF5's lock error, and a
  // file of another model is refused untouched.
  check_not_open_elsewhere(path);
  check_recording_model(path, model);
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
  return RunWriter(path_, std::move(runs), std::move(group), index, staged_);
}

int64_t RecordingWriter::run_count() const {
  return static_cast<int64_t>(committed_runs(runs_.get(), {path_, kRunsGroup}).size());
}

void RecordingWriter::finish() {
  HS_ASSERT(file_ && "RecordingWriter finished twice");
  h5_check(H5Fflush(file_.get(), H5F_SCOPE_LOCAL), {path_, ""}, "flush file");
  runs_.reset();
  file_.reset();
  if (staged_ && !staged_->published()) staged_->publish();
  staged_.reset();
}

}  // namespace headscope
