#include "analyses/ablation/analysis_file.h"

#include <hdf5_hl.h>

#include <cstdio>
#include <filesystem>
#include <optional>

#include <torch/torch.h>

#include "core/error.h"
#include "core/hdf5_attribute.h"
#include "core/recording_writer.h"

namespace headscope {
namespace {

std::string shape_text(const std::vector<hsize_t>& dims) {
  std::string text = "[";
  for (size_t axis = 0; axis < dims.size(); ++axis) {
    text += (axis ? ", " : "") + std::to_string(dims[axis]);
  }
  return text + "]";
}

H5Id open_or_create_group(hid_t parent, const std::string& name, const H5Where& where) {
  if (h5_path_exists(parent, name, where)) {
    return h5_own(H5Gopen2(parent, name.c_str(), H5P_DEFAULT), H5Kind::kGroup, where, "open group");
  }
  return h5_own(H5Gcreate2(parent, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                H5Kind::kGroup, where, "create group");
}

int64_t root_int(hid_t file, const char* name, const std::string& path) {
  const std::optional<int64_t> value = h5_read_int_attribute(file, name, {path, "/"});
  if (!value) throw InvalidInput(path + " has no root attribute " + name);
  return *value;
}

// h5_path_exists takes paths relative to the object it is given.
std::string relative(const std::string& path) {
  const size_t start = path.find_first_not_of('/');
  return start == std::string::npos ? "" : path.substr(start);
}

// An existing headscope file must describe a model of the same shape.
void check_existing(hid_t file, const std::string& path, const ModelSummary& model) {
  check_format_version(file, path);
  const int64_t layers = root_int(file, "n_layers", path);
  const int64_t heads = root_int(file, "n_heads", path);
  if (layers != model.n_layers || heads != model.n_heads) {
    throw InvalidInput(path + " holds results of a model with " + std::to_string(layers) +
                       " layers x " + std::to_string(heads) + " heads; this one has " +
                       std::to_string(model.n_layers) + " x " + std::to_string(model.n_heads));
  }
}

}  // namespace

torch::Tensor read_head_scores(const std::string& path, const std::string& dataset,
                               const ModelConfig& config) {
  h5_init();
  const H5Where where{path, dataset};
  H5Id file = open_recording_file(path, H5F_ACC_RDONLY);
  if (!h5_path_exists(file.get(), relative(dataset), where)) {
    throw InvalidInput(path + " has no dataset " + dataset +
                       " (per-head scores [layer, head], e.g. from `headscope retrieval`)");
  }
  H5Id data = h5_own(H5Dopen2(file.get(), dataset.c_str(), H5P_DEFAULT), H5Kind::kDataset, where,
                     "open dataset");
  H5Id type = h5_own(H5Dget_type(data.get()), H5Kind::kDatatype, where, "read type");
  if (H5Tget_class(type.get()) != H5T_FLOAT) {
    throw InvalidInput(where.str() + ": expected floating-point scores");
  }
  const std::vector<hsize_t> dims = h5_dataset_dims(data.get(), where);
  const std::vector<hsize_t> expected = {static_cast<hsize_t>(config.n_layers),
                                         static_cast<hsize_t>(config.n_heads)};
  if (dims != expected) {
    throw InvalidInput(where.str() + ": shape " + shape_text(dims) +
                       " does not match the model's " + shape_text(expected) + " [layer, head]");
  }
  auto scores = torch::empty({config.n_layers, config.n_heads}, torch::kFloat64);
  h5_check(H5Dread(data.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                   scores.data_ptr<double>()),
           where, "read dataset");
  return scores;
}

void check_analysis_target(const std::string& path, const ModelSummary& model) {
  h5_init();
  if (std::filesystem::exists(path)) {
    H5Id file = open_recording_file(path, H5F_ACC_RDONLY);
    check_existing(file.get(), path, model);
    return;
  }
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty() && !std::filesystem::is_directory(parent)) {
    throw IoError("cannot write " + path + ": directory " + parent.string() + " does not exist");
  }
}

AnalysisGroupWriter::AnalysisGroupWriter(std::string path, std::string name, const ModelSummary& model)
    : path_(std::move(path)), name_(std::move(name)), partial_(".partial_" + name_) {
  HS_ASSERT(!name_.empty() && name_.find('/') == std::string::npos);
  h5_init();
  if (std::filesystem::exists(path_)) {
    file_ = open_recording_file(path_, H5F_ACC_RDWR);
    check_existing(file_.get(), path_, model);
  } else {
    temp_path_ = path_ + ".partial";
  }
  try {
    if (!temp_path_.empty()) {
      RecordingWriter::create(temp_path_, model);
      file_ = open_recording_file(temp_path_, H5F_ACC_RDWR);
    }
    analyses_ = open_or_create_group(file_.get(), relative(kAnalysesGroup), where(""));
    if (h5_path_exists(analyses_.get(), partial_, where(""))) {
      h5_check(H5Ldelete(analyses_.get(), partial_.c_str(), H5P_DEFAULT), where(""),
               "delete an interrupted " + partial_);
    }
    group_ =
        h5_own(H5Gcreate2(analyses_.get(), partial_.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
               H5Kind::kGroup, where(""), "create group");
  } catch (...) {
    // No destructor runs for a half-built writer: drop the temporary file here.
    analyses_.reset();
    file_.reset();
    if (!temp_path_.empty()) std::remove(temp_path_.c_str());
    throw;
  }
}

AnalysisGroupWriter::~AnalysisGroupWriter() {
  if (committed_) return;
  group_.reset();
  if (temp_path_.empty()) {
    // Best effort, as for an interrupted run: the next writer deletes a leftover.
    if (analyses_ && H5Ldelete(analyses_.get(), partial_.c_str(), H5P_DEFAULT) < 0) {
      H5Eclear2(H5E_DEFAULT);
    }
    return;
  }
  analyses_.reset();
  file_.reset();
  std::remove(temp_path_.c_str());
}

H5Where AnalysisGroupWriter::where(const std::string& object) const {
  const std::string group = std::string(kAnalysesGroup) + "/" + name_;
  return {path_, object.empty() ? group : group + "/" + object};
}

void AnalysisGroupWriter::write_f64(const std::string& name, const std::vector<int64_t>& shape,
                               const std::vector<double>& data,
                               const std::vector<std::string>& dimensions) {
  write(name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, shape, data.size(), data.data(), dimensions);
}

void AnalysisGroupWriter::write_i64(const std::string& name, const std::vector<int64_t>& shape,
                               const std::vector<int64_t>& data,
                               const std::vector<std::string>& dimensions) {
  write(name, H5T_STD_I64LE, H5T_NATIVE_INT64, shape, data.size(), data.data(), dimensions);
}

void AnalysisGroupWriter::write(const std::string& name, hid_t file_type, hid_t memory_type,
                           const std::vector<int64_t>& shape, size_t elements, const void* data,
                           const std::vector<std::string>& dimensions) {
  HS_ASSERT(!committed_ && !name.empty() && name.find('/') == std::string::npos);
  HS_ASSERT(dimensions.empty() || dimensions.size() == shape.size());
  std::vector<hsize_t> dims;
  size_t count = 1;
  for (int64_t extent : shape) {
    HS_ASSERT(extent >= 0);
    dims.push_back(static_cast<hsize_t>(extent));
    count *= static_cast<size_t>(extent);
  }
  HS_ASSERT(count == elements);
  const H5Where at = where(name);
  H5Id space = h5_own(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
                      H5Kind::kDataspace, at, "create dataspace");
  H5Id dataset = h5_own(H5Dcreate2(group_.get(), name.c_str(), file_type, space.get(), H5P_DEFAULT,
                                   H5P_DEFAULT, H5P_DEFAULT),
                        H5Kind::kDataset, at, "create dataset");
  if (count > 0) {
    h5_check(H5Dwrite(dataset.get(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), at,
             "write dataset");
  }
  for (size_t axis = 0; axis < dimensions.size(); ++axis) {
    attach_scale(dataset.get(), static_cast<unsigned>(axis), dimensions[axis], dims[axis]);
  }
}

void AnalysisGroupWriter::attach_scale(hid_t dataset, unsigned axis, const std::string& dimension,
                                  hsize_t length) {
  const H5Where at = where(dimension);
  H5Id scale;
  if (h5_path_exists(group_.get(), dimension, at)) {
    scale = h5_own(H5Dopen2(group_.get(), dimension.c_str(), H5P_DEFAULT), H5Kind::kDataset, at,
                   "open dimension scale");
    HS_ASSERT(h5_dataset_dims(scale.get(), at) == std::vector<hsize_t>{length});
  } else {
    std::vector<int64_t> values(length);
    for (hsize_t i = 0; i < length; ++i) values[i] = static_cast<int64_t>(i);
    H5Id space =
        h5_own(H5Screate_simple(1, &length, nullptr), H5Kind::kDataspace, at, "create dataspace");
    scale = h5_own(H5Dcreate2(group_.get(), dimension.c_str(), H5T_STD_I64LE, space.get(),
                              H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                   H5Kind::kDataset, at, "create dimension scale");
    if (length > 0) {
      h5_check(
          H5Dwrite(scale.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), at,
          "write dimension scale");
    }
    h5_check(H5DSset_scale(scale.get(), dimension.c_str()), at, "make dimension scale");
  }
  h5_check(H5DSattach_scale(dataset, scale.get(), axis), at, "attach dimension scale");
  h5_check(H5DSset_label(dataset, axis, dimension.c_str()), at, "label axis");
}

void AnalysisGroupWriter::set_attribute(const std::string& name, const std::string& value) {
  HS_ASSERT(!committed_);
  h5_write_string_attribute(group_.get(), name, value, where(""));
}

void AnalysisGroupWriter::set_attribute(const std::string& name, const char* value) {
  set_attribute(name, std::string(value));
}

void AnalysisGroupWriter::set_attribute(const std::string& name, int64_t value) {
  HS_ASSERT(!committed_);
  h5_write_int_attribute(group_.get(), name, value, where(""));
}

void AnalysisGroupWriter::set_attribute(const std::string& name, double value) {
  HS_ASSERT(!committed_);
  h5_write_double_attribute(group_.get(), name, value, where(""));
}

void AnalysisGroupWriter::commit() {
  HS_ASSERT(!committed_ && "AnalysisGroupWriter committed twice");
  const H5Where at = where("");
  group_.reset();
  if (h5_path_exists(analyses_.get(), name_, at)) {
    h5_check(H5Ldelete(analyses_.get(), name_.c_str(), H5P_DEFAULT), at, "replace older results");
  }
  h5_check(H5Lmove(analyses_.get(), partial_.c_str(), analyses_.get(), name_.c_str(), H5P_DEFAULT,
                   H5P_DEFAULT),
           at, "commit results");
  h5_check(H5Fflush(file_.get(), H5F_SCOPE_LOCAL), at, "flush file");
  analyses_.reset();
  file_.reset();
  committed_ = true;
  if (!temp_path_.empty()) {
    std::error_code error;
    std::filesystem::rename(temp_path_, path_, error);
    if (error) {
      std::remove(temp_path_.c_str());
      throw IoError(path_ + ": cannot rename " + temp_path_ + " into place: " + error.message());
    }
  }
}

}  // namespace headscope
