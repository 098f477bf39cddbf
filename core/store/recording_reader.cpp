#include "core/store/recording_reader.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <utility>

#include "core/base/error.h"
#include "core/base/float16.h"
#include "core/store/hdf5_attribute.h"

namespace headscope {
namespace {

H5Id dataset_type(hid_t dataset, H5T_class_t expected, const char* expected_name,
                  const H5Where& where) {
  H5Id type = h5_own(H5Dget_type(dataset), H5Kind::kDatatype, where, "read type");
  if (H5Tget_class(type.get()) != expected) {
    throw InvalidInput(where.str() + ": expected a dataset of " + expected_name);
  }
  return type;
}

// Reads `elements` floats selected by the two dataspaces (H5S_ALL for the whole dataset).
std::vector<float> read_floats(hid_t dataset, hid_t memory_space, hid_t file_space,
                               hsize_t elements, const H5Where& where) {
  H5Id type = dataset_type(dataset, H5T_FLOAT, "floats", where);
  std::vector<float> values(elements);
  if (elements == 0) return values;
  H5Id half = float16_file_type(where);
  if (h5_check(H5Tequal(type.get(), half.get()), where, "compare types") == 0) {
    h5_check(
        H5Dread(dataset, H5T_NATIVE_FLOAT, memory_space, file_space, H5P_DEFAULT, values.data()),
        where, "read dataset");
    return values;
  }
  // HDF5 widens float16 in software, slowly. Read the raw halves into the front of the output
  // and widen from the back: float i overwrites halves 2i and 2i+1, already widened for i > 0.
  auto* bytes = reinterpret_cast<unsigned char*>(values.data());
  h5_check(H5Dread(dataset, half.get(), memory_space, file_space, H5P_DEFAULT, bytes), where,
           "read dataset");
  for (hsize_t i = elements; i-- > 0;) {
    uint16_t bits;
    std::memcpy(&bits, bytes + 2 * i, sizeof bits);
    const float value = f32_from_float16(bits);
    std::memcpy(bytes + 4 * i, &value, sizeof value);
  }
  return values;
}

// The file and memory dataspaces of the box [start, start + count), bounds-checked.
struct Box {
  H5Id file_space;
  H5Id memory_space;
  hsize_t elements = 1;
};

Box select_box(hid_t dataset, const std::vector<int64_t>& start, const std::vector<int64_t>& count,
               const H5Where& where) {
  const std::vector<hsize_t> dims = h5_dataset_dims(dataset, where);
  if (start.size() != dims.size() || count.size() != dims.size()) {
    throw InvalidInput(where.str() + ": slice needs " + std::to_string(dims.size()) +
                       " start and count values");
  }
  Box box;
  for (size_t axis = 0; axis < dims.size(); ++axis) {
    const auto dim = static_cast<int64_t>(dims[axis]);
    if (start[axis] < 0 || count[axis] < 0 || start[axis] > dim ||
        count[axis] > dim - start[axis]) {
      throw InvalidInput(where.str() + ": slice [" + std::to_string(start[axis]) + ", " +
                         std::to_string(start[axis] + count[axis]) + ") of axis " +
                         std::to_string(axis) + " is outside [0, " + std::to_string(dim) + ")");
    }
    box.elements *= static_cast<hsize_t>(count[axis]);
  }
  const std::vector<hsize_t> box_start(start.begin(), start.end());
  const std::vector<hsize_t> box_count(count.begin(), count.end());
  box.file_space = h5_own(H5Dget_space(dataset), H5Kind::kDataspace, where, "read shape");
  if (box.elements == 0) return box;
  h5_check(H5Sselect_hyperslab(box.file_space.get(), H5S_SELECT_SET, box_start.data(), nullptr,
                               box_count.data(), nullptr),
           where, "select slice");
  box.memory_space =
      h5_own(H5Screate_simple(static_cast<int>(box_count.size()), box_count.data(), nullptr),
             H5Kind::kDataspace, where, "create dataspace");
  return box;
}

hsize_t element_count(hid_t dataset, const H5Where& where) {
  hsize_t elements = 1;
  for (hsize_t dim : h5_dataset_dims(dataset, where)) elements *= dim;
  return elements;
}

// Reads `elements` integers selected by the two dataspaces (H5S_ALL for the whole dataset);
// HDF5 converts int64 in the file to int32.
std::vector<int32_t> read_ints(hid_t dataset, hid_t memory_space, hid_t file_space,
                               hsize_t elements, const H5Where& where) {
  dataset_type(dataset, H5T_INTEGER, "integers", where);
  std::vector<int32_t> values(elements);
  if (elements == 0) return values;
  h5_check(H5Dread(dataset, H5T_NATIVE_INT32, memory_space, file_space, H5P_DEFAULT, values.data()),
           where, "read dataset");
  return values;
}

template <typename Value>
using ReadFn = std::vector<Value> (*)(hid_t, hid_t, hid_t, hsize_t, const H5Where&);

template <typename Value>
std::vector<Value> read_all(hid_t dataset, const H5Where& where, ReadFn<Value> read) {
  return read(dataset, H5S_ALL, H5S_ALL, element_count(dataset, where), where);
}

template <typename Value>
std::vector<Value> read_slice(hid_t dataset, const std::vector<int64_t>& start,
                              const std::vector<int64_t>& count, const H5Where& where,
                              ReadFn<Value> read) {
  const Box box = select_box(dataset, start, count, where);
  if (box.elements == 0) return {};
  return read(dataset, box.memory_space.get(), box.file_space.get(), box.elements, where);
}

template <typename T>
T required(std::optional<T> value, const H5Where& where, const char* name) {
  if (!value) throw InvalidInput(where.str() + ": missing attribute '" + name + "'");
  return *std::move(value);
}

}  // namespace

RecordingReader::RecordingReader(std::string path, H5Id file, int format_version)
    : path_(std::move(path)), file_(std::move(file)), format_version_(format_version) {}

RecordingReader RecordingReader::open(const std::string& path) {
  h5_init();
  H5Id file = open_recording_file(path, H5F_ACC_RDONLY);
  const int version = check_format_version(file.get(), path);
  return RecordingReader(path, std::move(file), version);
}

RecordingReader RecordingReader::open_image(const void* data, size_t size,
                                            const std::string& label, double check_timeout_s) {
  h5_init();
  H5Id file = open_recording_image(data, size, label, check_timeout_s);
  const int version = check_format_version(file.get(), label);
  return RecordingReader(label, std::move(file), version);
}

ModelSummary RecordingReader::model() const {
  const H5Where root{path_, "/"};
  ModelSummary model;
  model.family = required(h5_read_string_attribute(file_.get(), kAttrModelFamily, root), root,
                          kAttrModelFamily);
  for (const ModelIntAttribute& attribute : kModelIntAttributes) {
    model.*attribute.field =
        required(h5_read_int_attribute(file_.get(), attribute.name, root), root, attribute.name);
  }
  model.model_path =
      required(h5_read_string_attribute(file_.get(), kAttrModelPath, root), root, kAttrModelPath);

  const H5Where config{path_, kConfigJsonPath};
  H5Id dataset = h5_own(H5Dopen2(file_.get(), kConfigJsonPath, H5P_DEFAULT), H5Kind::kDataset,
                        config, "open dataset");
  H5Id type = h5_utf8_string_type(config);
  H5Id space = h5_own(H5Dget_space(dataset.get()), H5Kind::kDataspace, config, "read shape");
  char* text = nullptr;
  h5_check(H5Dread(dataset.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, &text), config,
           "read dataset");
  model.config_json = text != nullptr ? text : "";
  h5_free_strings(type.get(), space.get(), &text);
  return model;
}

int64_t RecordingReader::run_count() const {
  H5Id runs = open_runs();
  return static_cast<int64_t>(committed_runs(runs.get(), {path_, kRunsGroup}).size());
}

std::vector<std::string> RecordingReader::datasets(int64_t run) const {
  H5Id group = open_run(run);
  return dataset_paths(group.get(), where(run, ""));
}

std::vector<std::string> RecordingReader::hooks(int64_t run) const {
  std::vector<std::string> names = datasets(run);
  names.erase(std::remove_if(names.begin(), names.end(),
                             [](const std::string& name) { return !is_hook_name(name); }),
              names.end());
  return names;
}

bool RecordingReader::has(int64_t run, const std::string& name) const {
  H5Id group = open_run(run);
  return h5_path_exists(group.get(), name, where(run, name));
}

std::vector<int64_t> RecordingReader::shape(int64_t run, const std::string& name) const {
  H5Id dataset = open_dataset(run, name);
  const std::vector<hsize_t> dims = h5_dataset_dims(dataset.get(), where(run, name));
  return {dims.begin(), dims.end()};
}

std::vector<std::string> RecordingReader::dimensions(int64_t run, const std::string& name) const {
  const H5Where where = this->where(run, name);
  H5Id dataset = open_dataset(run, name);
  const size_t rank = h5_dataset_dims(dataset.get(), where).size();
  // Read through the checked path, not H5DSget_label: HDF5 1.10's H5DS functions read
  // attributes into buffers sized by what the schema should be and free them twice on errors.
  std::optional<std::vector<std::string>> labels =
      h5_read_strings_attribute(dataset.get(), kAttrDimensionLabels, rank, where);
  return labels ? *std::move(labels) : std::vector<std::string>(rank);
}

std::vector<float> RecordingReader::read_f32(int64_t run, const std::string& name) const {
  return read_all<float>(open_dataset(run, name).get(), where(run, name), read_floats);
}

std::vector<float> RecordingReader::read_f32_slice(int64_t run, const std::string& name,
                                                   const std::vector<int64_t>& start,
                                                   const std::vector<int64_t>& count) const {
  return read_slice<float>(open_dataset(run, name).get(), start, count, where(run, name),
                           read_floats);
}

std::vector<float> RecordingReader::read_head(int64_t run, const std::string& pattern_name,
                                              int64_t head) const {
  const H5Where where = this->where(run, pattern_name);
  const std::vector<int64_t> dims = shape(run, pattern_name);
  if (dims.size() != 3) throw InvalidInput(where.str() + ": expected [n_heads, T, S]");
  if (head < 0 || head >= dims[0]) {
    throw InvalidInput(where.str() + ": no head " + std::to_string(head) + " (" +
                       std::to_string(dims[0]) + " heads)");
  }
  return read_f32_slice(run, pattern_name, {head, 0, 0}, {1, dims[1], dims[2]});
}

std::vector<int32_t> RecordingReader::read_i32(int64_t run, const std::string& name) const {
  return read_all<int32_t>(open_dataset(run, name).get(), where(run, name), read_ints);
}

std::vector<int32_t> RecordingReader::read_i32_slice(int64_t run, const std::string& name,
                                                     const std::vector<int64_t>& start,
                                                     const std::vector<int64_t>& count) const {
  return read_slice<int32_t>(open_dataset(run, name).get(), start, count, where(run, name),
                             read_ints);
}

std::vector<int32_t> RecordingReader::read_tokens(int64_t run) const {
  const H5Where where = this->where(run, kTokens);
  if (shape(run, kTokens).size() != 1) throw InvalidInput(where.str() + ": expected one dimension");
  return read_i32(run, kTokens);
}

std::vector<std::string> RecordingReader::read_token_text(int64_t run) const {
  H5Id dataset = open_dataset(run, kTokenText);
  return h5_read_string_dataset(dataset.get(), where(run, kTokenText));
}

std::string RecordingReader::attribute(int64_t run, const std::string& name) const {
  const H5Where where = this->where(run, "");
  H5Id group = open_run(run);
  return required(h5_read_string_attribute(group.get(), name, where), where, name.c_str());
}

int64_t RecordingReader::int_attribute(int64_t run, const std::string& object,
                                       const std::string& name) const {
  const H5Where where = this->where(run, object);
  H5Id target = open_object(run, object);
  return required(h5_read_int_attribute(target.get(), name, where), where, name.c_str());
}

H5Where RecordingReader::where(int64_t run, const std::string& name) const {
  const std::string group = std::string(kRunsGroup) + "/" + std::to_string(run);
  return {path_, name.empty() ? group : group + "/" + name};
}

H5Id RecordingReader::open_runs() const {
  return h5_own(H5Gopen2(file_.get(), kRunsGroup, H5P_DEFAULT), H5Kind::kGroup, {path_, kRunsGroup},
                "open group");
}

H5Id RecordingReader::open_run(int64_t run) const {
  H5Id runs = open_runs();
  const std::string name = std::to_string(run);
  const H5Where where = this->where(run, "");
  if (run < 0 ||
      h5_check(H5Lexists(runs.get(), name.c_str(), H5P_DEFAULT), where, "look up run") == 0) {
    throw InvalidInput(path_ + ": no run " + name + " (the file holds " +
                       std::to_string(committed_runs(runs.get(), where).size()) +
                       " committed runs)");
  }
  return h5_own(H5Gopen2(runs.get(), name.c_str(), H5P_DEFAULT), H5Kind::kGroup, where, "open run");
}

H5Id RecordingReader::open_dataset(int64_t run, const std::string& name) const {
  H5Id group = open_run(run);
  const H5Where where = this->where(run, name);
  if (!h5_path_exists(group.get(), name, where)) {
    throw InvalidInput(where.str() + ": no such dataset");
  }
  return h5_own(H5Dopen2(group.get(), name.c_str(), H5P_DEFAULT), H5Kind::kDataset, where,
                "open dataset");
}

H5Id RecordingReader::open_object(int64_t run, const std::string& name) const {
  H5Id group = open_run(run);
  const H5Where where = this->where(run, name);
  if (!name.empty() && !h5_path_exists(group.get(), name, where)) {
    throw InvalidInput(where.str() + ": no such dataset or group");
  }
  return h5_own(H5Oopen(group.get(), name.empty() ? "." : name.c_str(), H5P_DEFAULT),
                H5Kind::kObject, where, "open object");
}

}  // namespace headscope
