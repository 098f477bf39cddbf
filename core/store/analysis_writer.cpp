#include "core/store/analysis_writer.h"

#include <algorithm>
#include <filesystem>
#include <numeric>

#include "core/base/error.h"
#include "core/store/recording_writer.h"
#include "core/store/same_model.h"
#include "core/store/staged_file.h"

namespace headscope {
namespace {

void check_analysis_name(const std::string& name, const H5Where& where) {
  if (name.empty() || name.find('/') != std::string::npos || name == "." ||
      name.rfind(kPartialRunPrefix, 0) == 0) {
    throw InvalidInput(where.str() + ": invalid analysis name '" + name +
                       "' (need one group name, not starting with " + kPartialRunPrefix + ")");
  }
  check_hdf5_text(name, where, "analysis name");
}

// A dimension scale lives directly in the analysis group, under the dimension's name.
void check_dimension_name(const std::string& dimension, const H5Where& where) {
  if (dimension.empty() || dimension.find('/') != std::string::npos || dimension == "." ||
      dimension.rfind(kPartialRunPrefix, 0) == 0) {
    throw InvalidInput(where.str() + ": invalid dimension name '" + dimension + "'");
  }
  check_hdf5_text(dimension, where, "dimension name");
}

size_t element_count(const std::vector<hsize_t>& dims) {
  size_t count = 1;
  for (hsize_t extent : dims) count *= static_cast<size_t>(extent);
  return count;
}

}  // namespace

AnalysisWriter AnalysisWriter::begin(const std::string& path, const std::string& name) {
  return open(path, "", name, nullptr, OutputMode::kAppend);
}

AnalysisWriter AnalysisWriter::begin(const std::string& path, const std::string& name,
                                     const ModelSummary& model) {
  return open(path, "", name, &model,
              std::filesystem::exists(path) ? OutputMode::kAppend : OutputMode::kNew);
}

AnalysisWriter AnalysisWriter::begin(const AnalysisTarget& target, const std::string& name) {
  return open(target.path, "", name, &target.model, target.mode);
}

AnalysisWriter AnalysisWriter::begin(const AnalysisTarget& target, const std::string& collection,
                                     const std::string& name) {
  h5_init();
  // "" would mean /analyses/<name> to open().
  check_analysis_name(collection, {target.path, std::string(kAnalysesGroup) + "/" + collection});
  return open(target.path, collection, name, &target.model, target.mode);
}

AnalysisWriter AnalysisWriter::open(const std::string& path, const std::string& collection,
                                    const std::string& name, const ModelSummary* model,
                                    OutputMode mode) {
  h5_init();
  const std::string parent =
      collection.empty() ? kAnalysesGroup : std::string(kAnalysesGroup) + "/" + collection;
  const H5Where where{path, parent + "/" + name};
  check_analysis_name(name, where);
  std::shared_ptr<StagedFile> staged;
  H5Id file;
  if (mode == OutputMode::kAppend) {
    check_not_open_elsewhere(path);
    if (model != nullptr) check_recording_model(path, *model);
    file = open_recording_file(path, H5F_ACC_RDWR);
    check_format_version(file.get(), path);
  } else {
    HS_ASSERT(model != nullptr && "a new analysis file needs the model's summary");
    // Two analyses creating the same file race only at publish(), which never overwrites a
    // file that appeared meanwhile (kNew).
    staged = std::make_shared<StagedFile>(
        path, mode == OutputMode::kNew ? StagedFile::Target::kNew : StagedFile::Target::kReplace);
    RecordingWriter::create(staged->path(), *model);
    file = open_recording_file(staged->path(), H5F_ACC_RDWR);
  }
  // The group keeps the file open; from here the writer cleans up after a failure.
  PartialGroup group(file.get(), parent, name, where);
  return AnalysisWriter(path, std::move(group), std::move(staged));
}

void AnalysisWriter::check_new_name(const std::string& name, const H5Where& where) const {
  check_object_path(name, where);
  check_hdf5_text(name, where, "dataset name");
  const std::string top = name.substr(0, name.find('/'));
  if (std::find(scales_.begin(), scales_.end(), top) != scales_.end()) {
    throw InvalidInput(where.str() + ": '" + top + "' is already a dimension scale");
  }
  if (h5_path_exists(group(), name, where)) {
    throw InvalidInput(where.str() + ": written twice");
  }
}

H5Id AnalysisWriter::scale_for(const std::string& dimension, hsize_t length, const H5Where& user) {
  const H5Where at = where(dimension);
  check_dimension_name(dimension, user);
  if (std::find(scales_.begin(), scales_.end(), dimension) != scales_.end()) {
    H5Id scale = h5_own(H5Dopen2(group(), dimension.c_str(), H5P_DEFAULT), H5Kind::kDataset, at,
                        "open dimension scale");
    const std::vector<hsize_t> dims = h5_dataset_dims(scale.get(), at);
    if (dims != std::vector<hsize_t>{length}) {
      throw InvalidInput(user.str() + ": an axis of length " + std::to_string(length) +
                         " cannot be dimension '" + dimension + "' of length " +
                         std::to_string(dims.at(0)));
    }
    return scale;
  }
  if (h5_path_exists(group(), dimension, at)) {
    throw InvalidInput(user.str() + ": dimension '" + dimension + "' has the name of a dataset");
  }
  std::vector<int64_t> values(length);
  std::iota(values.begin(), values.end(), int64_t{0});
  write_scale(dimension, values);
  return h5_own(H5Dopen2(group(), dimension.c_str(), H5P_DEFAULT), H5Kind::kDataset, at,
                "open dimension scale");
}

void AnalysisWriter::attach_scales(hid_t dataset, const std::vector<hsize_t>& dims,
                                   const std::vector<std::string>& dimensions,
                                   const H5Where& where) {
  for (size_t axis = 0; axis < dimensions.size(); ++axis) {
    H5Id scale = scale_for(dimensions[axis], dims[axis], where);
    attach_dimension_scale(dataset, scale.get(), static_cast<unsigned>(axis), dimensions[axis],
                           where);
  }
}

void AnalysisWriter::write_array(const std::string& name, DType dtype,
                                 const std::vector<int64_t>& shape, const void* data,
                                 const std::vector<std::string>& dimensions) {
  const H5Where where = this->where(name);
  check_new_name(name, where);
  if (dtype == DType::kF16) {
    throw InvalidInput(where.str() +
                       ": cannot store float16 in an analysis (float64, float32, "
                       "int32 or int64 only)");
  }
  H5Id type = recording_file_type(dtype, where);
  if (!dimensions.empty() && dimensions.size() != shape.size()) {
    throw InvalidInput(where.str() + ": " + std::to_string(dimensions.size()) +
                       " dimension names for " + std::to_string(shape.size()) + " axes");
  }
  const std::vector<hsize_t> dims = checked_dims(shape, where);
  // Scales first: a dataset that cannot get its axes is not written at all.
  for (size_t axis = 0; axis < dimensions.size(); ++axis) {
    scale_for(dimensions[axis], dims[axis], where);
  }
  H5Id dataset = create_recording_dataset(group(), name, type.get(), dims, where);
  if (element_count(dims) > 0) {
    HS_ASSERT(data != nullptr);
    h5_check(H5Dwrite(dataset.get(), recording_memory_type(dtype, type.get()), H5S_ALL, H5S_ALL,
                      H5P_DEFAULT, data),
             where, "write dataset");
  }
  attach_scales(dataset.get(), dims, dimensions, where);
}

void AnalysisWriter::write_f64(const std::string& name, const std::vector<int64_t>& shape,
                               const std::vector<double>& data,
                               const std::vector<std::string>& dimensions) {
  HS_ASSERT(element_count(checked_dims(shape, where(name))) == data.size());
  write_array(name, DType::kF64, shape, data.data(), dimensions);
}

void AnalysisWriter::write_i64(const std::string& name, const std::vector<int64_t>& shape,
                               const std::vector<int64_t>& data,
                               const std::vector<std::string>& dimensions) {
  HS_ASSERT(element_count(checked_dims(shape, where(name))) == data.size());
  write_array(name, DType::kI64, shape, data.data(), dimensions);
}

void AnalysisWriter::write_strings(const std::string& name, const std::vector<std::string>& values,
                                   const std::string& dimension) {
  const H5Where where = this->where(name);
  check_new_name(name, where);
  const hsize_t length = values.size();
  if (!dimension.empty()) scale_for(dimension, length, where);
  H5Id dataset = write_string_dataset(name, values, "element", where);
  if (!dimension.empty()) attach_scales(dataset.get(), {length}, {dimension}, where);
}

void AnalysisWriter::check_new_scale(const std::string& dimension, const H5Where& where) const {
  check_dimension_name(dimension, where);
  if (std::find(scales_.begin(), scales_.end(), dimension) != scales_.end()) {
    throw InvalidInput(where.str() +
                       ": dimension scale written twice, or after a dataset using it");
  }
  check_new_name(dimension, where);
}

void AnalysisWriter::write_scale(const std::string& dimension, const std::vector<int64_t>& values) {
  const H5Where where = this->where(dimension);
  check_new_scale(dimension, where);
  write_int64_scale(dimension, values, where);
  scales_.push_back(dimension);
}

void AnalysisWriter::write_scale(const std::string& dimension,
                                 const std::vector<std::string>& values) {
  const H5Where where = this->where(dimension);
  check_new_scale(dimension, where);
  H5Id scale = write_string_dataset(dimension, values, "element", where);
  make_dimension_scale(scale.get(), dimension, where);
  scales_.push_back(dimension);
}

void AnalysisWriter::commit() {
  group_.commit();
  // The group held the last handles: the file is closed, so it moves into place complete.
  if (staged_) staged_->publish();
  staged_.reset();
}

void check_analysis_target(const std::string& path, const ModelSummary& model) {
  check_analysis_target(path, model,
                        std::filesystem::exists(path) ? OutputMode::kAppend : OutputMode::kNew);
}

void check_analysis_target(const std::string& path, const ModelSummary& model, OutputMode mode) {
  h5_init();
  switch (mode) {
    case OutputMode::kNew:
      check_output_directory(path);
      return;
    case OutputMode::kReplace:
      check_not_open_elsewhere(path);
      return;
    case OutputMode::kAppend:
      check_not_open_elsewhere(path);
      check_recording_model(path, model);
      return;
  }
}

}  // namespace headscope
