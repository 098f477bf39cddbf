#include "core/store/recording_writer.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <utility>

#include "core/base/error.h"
#include "core/base/float16.h"
#include "core/store/chunk_compression.h"
#include "core/store/hdf5_attribute.h"
#include "core/store/same_model.h"

namespace headscope {
namespace {

// Elements converted to float16 per write: bounds the temporary buffer at 32 MiB.
constexpr hsize_t kSlabElements = hsize_t{1} << 24;

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

// Writes data, count's product of elements of data_dtype, to the box [start, start + count):
// boxes of whole chunks are compressed on all cores (core/store/chunk_compression.h), others by
// HDF5. There, float32 data for a float16 dataset is converted in pieces of whole chunk rows
// along the first axis: the buffer stays bounded and no compressed chunk is split between two
// writes (HDF5 would read it back and rewrite it).
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
  if (writes_whole_chunks(dataset, dims, start, count, where)) {
    write_whole_chunks(dataset, file_dtype, data_dtype, start, count, data, where);
    return;
  }
  hsize_t row_elements = 1;
  for (size_t axis = 1; axis < dims.size(); ++axis) row_elements *= count[axis];
  const hsize_t end_row = start[0] + count[0];
  hsize_t piece_rows = 0;
  std::vector<uint16_t> buffer;
  if (convert) {
    const hsize_t chunk_rows = recording_chunk_shape(dims)[0];
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

RunWriter::RunWriter(std::string path, PartialGroup group, std::shared_ptr<StagedFile> staged)
    : GroupWriter(std::move(path), std::move(group), std::move(staged)) {}

void RunWriter::write_tokens(const std::vector<int32_t>& tokens) {
  write_array(kTokens, DType::kI32, {static_cast<int64_t>(tokens.size())}, DType::kI32,
              tokens.data());
}

void RunWriter::write_token_text(const std::vector<std::string>& text) {
  const std::lock_guard<std::recursive_mutex> hdf5(hdf5_lock());
  write_string_dataset(kTokenText, text, "token", where(kTokenText));
}

void RunWriter::set_attribute(const std::string& name, const std::string& value) {
  set_attribute("", name, value);
}

void RunWriter::write_array(const std::string& name, DType file_dtype,
                            const std::vector<int64_t>& shape, DType data_dtype, const void* data) {
  const std::lock_guard<std::recursive_mutex> hdf5(hdf5_lock());
  const H5Where where = this->where(name);
  check_dataset_name(name, where);
  check_conversion(data_dtype, file_dtype, where);
  const std::vector<hsize_t> dims = checked_dims(shape, where);
  H5Id type = recording_file_type(file_dtype, where);
  H5Id dataset = create_recording_dataset(group(), name, type.get(), dims, where, compression_);
  if (std::find(dims.begin(), dims.end(), 0) != dims.end()) return;
  HS_ASSERT(data != nullptr);
  write_box(dataset.get(), type.get(), file_dtype, data_dtype, dims,
            std::vector<hsize_t>(dims.size(), 0), dims, data, where);
}

void RunWriter::create_array(const std::string& name, DType file_dtype,
                             const std::vector<int64_t>& shape) {
  const std::lock_guard<std::recursive_mutex> hdf5(hdf5_lock());
  const H5Where where = this->where(name);
  check_dataset_name(name, where);
  const std::vector<hsize_t> dims = checked_dims(shape, where);
  H5Id type = recording_file_type(file_dtype, where);
  create_recording_dataset(group(), name, type.get(), dims, where, compression_);
}

// A write_slab call's dataset and box, checked.
struct RunWriter::Slab {
  H5Where where;
  H5Id dataset, type;
  DType file_dtype;
  std::vector<hsize_t> dims, start, count;
  bool empty = false;
};

RunWriter::Slab RunWriter::open_slab(const std::string& name, const std::vector<int64_t>& start,
                                     const std::vector<int64_t>& count, DType data_dtype) const {
  Slab slab{this->where(name), {}, {}, DType::kF32, {}, {}, {}};
  const H5Where& where = slab.where;
  if (!h5_path_exists(group(), name, where)) {
    throw InvalidInput(where.str() + ": no such dataset (create_array makes it)");
  }
  slab.dataset =
      h5_own(H5Dopen2(group(), name.c_str(), H5P_DEFAULT), H5Kind::kDataset, where, "open dataset");
  slab.type = h5_own(H5Dget_type(slab.dataset.get()), H5Kind::kDatatype, where, "read type");
  slab.file_dtype = stored_dtype(slab.type.get(), where);
  check_conversion(data_dtype, slab.file_dtype, where);
  slab.dims = h5_dataset_dims(slab.dataset.get(), where);
  const std::vector<hsize_t>& dims = slab.dims;
  if (start.size() != dims.size() || count.size() != dims.size()) {
    throw InvalidInput(where.str() + ": a slab of this dataset needs " +
                       std::to_string(dims.size()) + " start and count values");
  }
  for (size_t axis = 0; axis < dims.size(); ++axis) {
    const auto dim = static_cast<int64_t>(dims[axis]);
    if (start[axis] < 0 || count[axis] < 0 || start[axis] > dim ||
        count[axis] > dim - start[axis]) {
      throw InvalidInput(where.str() + ": slab [" + std::to_string(start[axis]) + ", " +
                         std::to_string(start[axis] + count[axis]) + ") of axis " +
                         std::to_string(axis) + " is outside [0, " + std::to_string(dim) + ")");
    }
    slab.empty = slab.empty || count[axis] == 0;
  }
  slab.start.assign(start.begin(), start.end());
  slab.count.assign(count.begin(), count.end());
  return slab;
}

void RunWriter::write_slab(const std::string& name, const std::vector<int64_t>& start,
                           const std::vector<int64_t>& count, DType data_dtype, const void* data) {
  const std::lock_guard<std::recursive_mutex> hdf5(hdf5_lock());
  const Slab slab = open_slab(name, start, count, data_dtype);
  if (slab.empty) return;
  HS_ASSERT(data != nullptr);
  write_box(slab.dataset.get(), slab.type.get(), slab.file_dtype, data_dtype, slab.dims, slab.start,
            slab.count, data, slab.where);
}

void RunWriter::defer_writes(const ChunkWriteQueueOptions& options) {
  flush_deferred();
  deferred_ = std::make_unique<ChunkWriteQueue>(options);
}

void RunWriter::write_slab_deferred(const std::string& name, const std::vector<int64_t>& start,
                                    const std::vector<int64_t>& count, DType data_dtype,
                                    DeferredSource source, size_t source_bytes) {
  // The queue's submit() may wait for its writing thread, which needs hdf5_lock(): the slab's
  // handles are opened and closed under the lock, and only the dataset's goes on to submit().
  H5Id dataset;
  ChunkBox box;
  H5Where where;
  {
    const std::lock_guard<std::recursive_mutex> hdf5(hdf5_lock());
    Slab slab = open_slab(name, start, count, data_dtype);
    if (slab.empty) return;
    HS_ASSERT(source.data != nullptr);
    if (!deferred_ ||
        !writes_whole_chunks(slab.dataset.get(), slab.dims, slab.start, slab.count, slab.where)) {
      if (source.wait_ready) source.wait_ready();
      write_box(slab.dataset.get(), slab.type.get(), slab.file_dtype, data_dtype, slab.dims,
                slab.start, slab.count, source.data.get(), slab.where);
      return;
    }
    box = whole_chunk_box(slab.dataset.get(), slab.file_dtype, data_dtype, slab.start, slab.count,
                          slab.where);
    dataset = std::move(slab.dataset);
    where = slab.where;
  }
  deferred_->submit(std::move(dataset), std::move(box), std::move(source), source_bytes,
                    std::move(where));
}

void RunWriter::flush_deferred() {
  if (deferred_) deferred_->flush();
}

ChunkWriteTimes RunWriter::deferred_times() const {
  return deferred_ ? deferred_->times() : ChunkWriteTimes();
}

void RunWriter::commit() {
  flush_deferred();
  const std::lock_guard<std::recursive_mutex> hdf5(hdf5_lock());
  attach_dimension_scales();
  group_.commit();
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
  for (const std::string& name : dataset_paths(group(), where(""))) {
    std::vector<std::string> dimensions = dataset_dimensions(name);
    if (dimensions.empty()) continue;
    const H5Where where = this->where(name);
    H5Id dataset = h5_own(H5Dopen2(group(), name.c_str(), H5P_DEFAULT), H5Kind::kDataset, where,
                          "open dataset");
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
    H5Id stats_group = h5_own(H5Gopen2(group(), kAttentionStats, H5P_DEFAULT), H5Kind::kGroup,
                              stats, "open group");
    const std::optional<int64_t> stored =
        h5_read_int_attribute(stats_group.get(), kAttrBlockSize, stats);
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
    scales.emplace(dimension, write_int64_scale(dimension, values, where));
  }
  for (const Scaled& entry : scaled) {
    const H5Where where = this->where(entry.name);
    H5Id dataset = h5_own(H5Dopen2(group(), entry.name.c_str(), H5P_DEFAULT), H5Kind::kDataset,
                          where, "open dataset");
    for (unsigned axis = 0; axis < entry.dimensions.size(); ++axis) {
      const std::string& dimension = entry.dimensions[axis];
      attach_dimension_scale(dataset.get(), scales.at(dimension).get(), axis, dimension, where);
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
  H5Id file = h5_own(H5Fcreate(path.c_str(), H5F_ACC_EXCL, H5P_DEFAULT, H5P_DEFAULT), H5Kind::kFile,
                     {path, ""}, "create file");
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
  const std::lock_guard<std::recursive_mutex> hdf5(hdf5_lock());
  const H5Where where{path_, kRunsGroup};
  const std::vector<int64_t> committed = committed_runs(runs_.get(), where);
  int64_t index = committed.empty() ? 0 : committed.back() + 1;
  // Partial groups here belong to runs of this writer still in progress.
  while (h5_check(H5Lexists(runs_.get(), partial_run_name(index).c_str(), H5P_DEFAULT), where,
                  "look up run") > 0) {
    ++index;
  }
  const std::string name = std::to_string(index);
  PartialGroup group(runs_.get(), kRunsGroup, name, {path_, std::string(kRunsGroup) + "/" + name});
  return RunWriter(path_, std::move(group), staged_);
}

int64_t RecordingWriter::run_count() const {
  const std::lock_guard<std::recursive_mutex> hdf5(hdf5_lock());
  return static_cast<int64_t>(committed_runs(runs_.get(), {path_, kRunsGroup}).size());
}

void RecordingWriter::finish() {
  const std::lock_guard<std::recursive_mutex> hdf5(hdf5_lock());
  HS_ASSERT(file_ && "RecordingWriter finished twice");
  h5_check(H5Fflush(file_.get(), H5F_SCOPE_LOCAL), {path_, ""}, "flush file");
  runs_.reset();
  file_.reset();
  if (staged_ && !staged_->published()) staged_->publish();
  staged_.reset();
}

}  // namespace headscope
