#include "core/store/analysis_writer.h"

#include <hdf5_hl.h>

#include <algorithm>
#include <filesystem>
#include <numeric>
#include <optional>

#include "core/base/error.h"
#include "core/store/hdf5_attribute.h"
#include "core/store/recording_writer.h"
#include "core/store/same_model.h"
#include "core/store/staged_file.h"

namespace headscope {
namespace {

std::string partial_name(const std::string& name) {
  return kPartialRunPrefix + name;
}

// h5_path_exists takes paths relative to the object it is given.
std::string relative(const std::string& path) {
  return path.substr(path.find_first_not_of('/'));
}

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

// Writes NUL-terminated strings as a 1-D variable-length UTF-8 dataset.
H5Id write_string_dataset(hid_t group, const std::string& name,
                          const std::vector<std::string>& values, const H5Where& where) {
  std::vector<const char*> pointers;
  pointers.reserve(values.size());
  for (const std::string& value : values) {
    check_hdf5_text(value, where, "element " + std::to_string(pointers.size()));
    pointers.push_back(value.c_str());
  }
  H5Id type = h5_utf8_string_type(where);
  H5Id dataset = create_recording_dataset(group, name, type.get(), {values.size()}, where);
  if (!values.empty()) {
    h5_check(H5Dwrite(dataset.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, pointers.data()),
             where, "write dataset");
  }
  return dataset;
}

}  // namespace

AnalysisWriter AnalysisWriter::begin(const std::string& path, const std::string& name) {
  return open(path, name, nullptr, OutputMode::kAppend);
}

AnalysisWriter AnalysisWriter::begin(const std::string& path, const std::string& name,
                                     const ModelSummary& model) {
  return open(path, name, &model,
              std::filesystem::exists(path) ? OutputMode::kAppend : OutputMode::kNew);
}

AnalysisWriter AnalysisWriter::begin(const AnalysisTarget& target, const std::string& name) {
  return open(target.path, name, &target.model, target.mode);
}

AnalysisWriter AnalysisWriter::open(const std::string& path, const std::string& name,
                                    const ModelSummary* model, OutputMode mode) {
  h5_init();
  AnalysisWriter writer(path, name);
  check_analysis_name(name, writer.where(""));
  if (mode == OutputMode::kAppend) {
    check_not_open_elsewhere(path);
    if (model != nullptr) check_recording_model(path, *model);
    writer.file_ = open_recording_file(path, H5F_ACC_RDWR);
    check_format_version(writer.file_.get(), path);
  } else {
    HS_ASSERT(model != nullptr && "a new analysis file needs the model's summary");
    // Two analyses creating the same file race only at publish(), which never overwrites a
    // file that appeared meanwhile (kNew).
    writer.staged_ = std::make_unique<StagedFile>(
        path, mode == OutputMode::kNew ? StagedFile::Target::kNew : StagedFile::Target::kReplace);
    RecordingWriter::create(writer.staged_->path(), *model);
    writer.file_ = open_recording_file(writer.staged_->path(), H5F_ACC_RDWR);
  }
  // From here the writer's destructor cleans up after a failure.
  writer.create_partial_group();
  return writer;
}

void AnalysisWriter::create_partial_group() {
  const H5Where group_where{path_, kAnalysesGroup};
  created_analyses_ = !h5_path_exists(file_.get(), relative(kAnalysesGroup), group_where);
  analyses_ =
      created_analyses_
          ? h5_own(H5Gcreate2(file_.get(), kAnalysesGroup, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                   H5Kind::kGroup, group_where, "create group")
          : h5_own(H5Gopen2(file_.get(), kAnalysesGroup, H5P_DEFAULT), H5Kind::kGroup, group_where,
                   "open group");
  const std::string partial = partial_name(name_);
  if (h5_path_exists(analyses_.get(), partial, where(""))) {
    h5_check(H5Ldelete(analyses_.get(), partial.c_str(), H5P_DEFAULT), where(""),
             "delete an interrupted " + partial);
  }
  group_ =
      h5_own(H5Gcreate2(analyses_.get(), partial.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
             H5Kind::kGroup, where(""), "create group");
}

AnalysisWriter::~AnalysisWriter() {
  if (file_) abandon();
}

void AnalysisWriter::abandon() noexcept {
  group_.reset();
  if (!staged_) {
    // Best effort, as for runs: a leftover partial group is invisible and replaced next time.
    const std::string partial = partial_name(name_);
    if (analyses_ && H5Ldelete(analyses_.get(), partial.c_str(), H5P_DEFAULT) < 0) {
      H5Eclear2(H5E_DEFAULT);
    }
    analyses_.reset();
    if (created_analyses_ && H5Ldelete(file_.get(), kAnalysesGroup, H5P_DEFAULT) < 0) {
      H5Eclear2(H5E_DEFAULT);
    }
    file_.reset();
    return;
  }
  analyses_.reset();
  file_.reset();
  // Deletes the unpublished new file.
  staged_.reset();
}

H5Where AnalysisWriter::where(const std::string& object) const {
  const std::string group = std::string(kAnalysesGroup) + "/" + name_;
  return {path_, object.empty() ? group : group + "/" + object};
}

H5Id AnalysisWriter::open_object(const std::string& object) const {
  HS_ASSERT(group_ && "AnalysisWriter used after commit");
  return open_child_object(group_.get(), object, where(object));
}

void AnalysisWriter::check_new_name(const std::string& name, const H5Where& where) const {
  HS_ASSERT(group_ && "AnalysisWriter used after commit");
  check_object_path(name, where);
  check_hdf5_text(name, where, "dataset name");
  const std::string top = name.substr(0, name.find('/'));
  if (std::find(scales_.begin(), scales_.end(), top) != scales_.end()) {
    throw InvalidInput(where.str() + ": '" + top + "' is already a dimension scale");
  }
  if (h5_path_exists(group_.get(), name, where)) {
    throw InvalidInput(where.str() + ": written twice");
  }
}

H5Id AnalysisWriter::scale_for(const std::string& dimension, hsize_t length, const H5Where& user) {
  const H5Where at = where(dimension);
  check_dimension_name(dimension, user);
  if (std::find(scales_.begin(), scales_.end(), dimension) != scales_.end()) {
    H5Id scale = h5_own(H5Dopen2(group_.get(), dimension.c_str(), H5P_DEFAULT), H5Kind::kDataset,
                        at, "open dimension scale");
    const std::vector<hsize_t> dims = h5_dataset_dims(scale.get(), at);
    if (dims != std::vector<hsize_t>{length}) {
      throw InvalidInput(user.str() + ": an axis of length " + std::to_string(length) +
                         " cannot be dimension '" + dimension + "' of length " +
                         std::to_string(dims.at(0)));
    }
    return scale;
  }
  if (h5_path_exists(group_.get(), dimension, at)) {
    throw InvalidInput(user.str() + ": dimension '" + dimension + "' has the name of a dataset");
  }
  std::vector<int64_t> values(length);
  std::iota(values.begin(), values.end(), int64_t{0});
  write_scale(dimension, values);
  return h5_own(H5Dopen2(group_.get(), dimension.c_str(), H5P_DEFAULT), H5Kind::kDataset, at,
                "open dimension scale");
}

void AnalysisWriter::attach_scales(hid_t dataset, const std::vector<hsize_t>& dims,
                                   const std::vector<std::string>& dimensions,
                                   const H5Where& where) {
  for (size_t axis = 0; axis < dimensions.size(); ++axis) {
    H5Id scale = scale_for(dimensions[axis], dims[axis], where);
    const auto index = static_cast<unsigned>(axis);
    h5_check(H5DSattach_scale(dataset, scale.get(), index), where,
             "attach dimension scale " + dimensions[axis]);
    h5_check(H5DSset_label(dataset, index, dimensions[axis].c_str()), where,
             "label axis " + std::to_string(axis));
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
  H5Id dataset = create_recording_dataset(group_.get(), name, type.get(), dims, where);
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
  H5Id dataset = write_string_dataset(group_.get(), name, values, where);
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
  const hsize_t length = values.size();
  H5Id scale = create_recording_dataset(group_.get(), dimension, H5T_STD_I64LE, {length}, where);
  if (length > 0) {
    h5_check(H5Dwrite(scale.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()),
             where, "write dimension scale");
  }
  h5_check(H5DSset_scale(scale.get(), dimension.c_str()), where, "make dimension scale");
  scales_.push_back(dimension);
}

void AnalysisWriter::write_scale(const std::string& dimension,
                                 const std::vector<std::string>& values) {
  const H5Where where = this->where(dimension);
  check_new_scale(dimension, where);
  H5Id scale = write_string_dataset(group_.get(), dimension, values, where);
  h5_check(H5DSset_scale(scale.get(), dimension.c_str()), where, "make dimension scale");
  scales_.push_back(dimension);
}

void AnalysisWriter::set_attribute(const std::string& object, const std::string& name,
                                   int64_t value) {
  write_checked_attribute(open_object(object).get(), where(object), name, value);
}

void AnalysisWriter::set_attribute(const std::string& object, const std::string& name,
                                   double value) {
  write_checked_attribute(open_object(object).get(), where(object), name, value);
}

void AnalysisWriter::set_attribute(const std::string& object, const std::string& name,
                                   const std::string& value) {
  write_checked_attribute(open_object(object).get(), where(object), name, value);
}

void AnalysisWriter::set_attribute(const std::string& object, const std::string& name,
                                   const std::vector<double>& values) {
  write_list_attribute(object, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, values.size(),
                       values.data());
}

void AnalysisWriter::set_attribute(const std::string& object, const std::string& name,
                                   const std::vector<int64_t>& values) {
  write_list_attribute(object, name, H5T_STD_I64LE, H5T_NATIVE_INT64, values.size(), values.data());
}

void AnalysisWriter::write_list_attribute(const std::string& object, const std::string& name,
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

void AnalysisWriter::commit() {
  HS_ASSERT(group_ && "AnalysisWriter committed twice");
  const H5Where where = this->where("");
  group_.reset();
  if (h5_path_exists(analyses_.get(), name_, where)) {
    h5_check(H5Ldelete(analyses_.get(), name_.c_str(), H5P_DEFAULT), where,
             "replace the earlier analysis");
  }
  h5_check(H5Lmove(analyses_.get(), partial_name(name_).c_str(), analyses_.get(), name_.c_str(),
                   H5P_DEFAULT, H5P_DEFAULT),
           where, "commit analysis");
  h5_check(H5Fflush(file_.get(), H5F_SCOPE_LOCAL), where, "flush file");
  analyses_.reset();
  file_.reset();
  if (staged_) staged_->publish();
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
