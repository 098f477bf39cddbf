#include "core/store/recording_schema.h"

#include <algorithm>
#include <optional>
#include <sstream>

#include "core/base/error.h"
#include "core/store/hdf5_attribute.h"
#include "core/store/recording_structure_check.h"

namespace headscope {
namespace {

herr_t collect_link_name(hid_t, const char* name, const H5L_info_t*, void* names) {
  // No exception may unwind through HDF5's C frames.
  try {
    static_cast<std::vector<std::string>*>(names)->emplace_back(name);
    return 0;
  } catch (...) {
    return -1;
  }
}

std::vector<std::string> link_names(hid_t group, const H5Where& where) {
  std::vector<std::string> names;
  h5_check(H5Literate(group, H5_INDEX_NAME, H5_ITER_NATIVE, nullptr, collect_link_name, &names),
           where, "list runs");
  return names;
}

// Whether the dataset is a dimension scale: its CLASS attribute says DIMENSION_SCALE. Read
// through the checked path: HDF5 1.10's H5DSis_scale frees its buffer twice when a corrupted
// CLASS attribute fails after the read.
bool is_dimension_scale(hid_t dataset) {
  const std::optional<std::string> value =
      h5_read_string_attribute(dataset, kAttrClass, {"", "dataset"});
  return value && *value == kDimensionScaleClass;
}

herr_t collect_dataset(hid_t group, const char* name, const H5L_info_t* info, void* names) {
  // No exception may unwind through HDF5's C frames.
  try {
    if (info->type != H5L_TYPE_HARD) return 0;
    const hid_t object = H5Oopen(group, name, H5P_DEFAULT);
    if (object < 0) return -1;
    bool listed = false;
    try {
      listed = H5Iget_type(object) == H5I_DATASET && !is_dimension_scale(object);
    } catch (...) {
      H5Oclose(object);
      return -1;
    }
    H5Oclose(object);
    if (listed) static_cast<std::vector<std::string>*>(names)->emplace_back(name);
    return 0;
  } catch (...) {
    return -1;
  }
}

// Committed runs are named by a canonical decimal index; anything else is not a run.
std::optional<int64_t> run_index(const std::string& name) {
  if (name.empty() || name.size() > 18 || (name.size() > 1 && name[0] == '0')) return std::nullopt;
  if (!std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  return std::stoll(name);
}

// Whether name matches pattern, where '*' matches one or more decimal digits.
bool matches(const char* pattern, const std::string& name) {
  size_t at = 0;
  for (; *pattern != '\0'; ++pattern) {
    if (*pattern == '*') {
      const size_t digits_start = at;
      while (at < name.size() && name[at] >= '0' && name[at] <= '9') ++at;
      if (at == digits_start) return false;
    } else if (at == name.size() || name[at++] != *pattern) {
      return false;
    }
  }
  return at == name.size();
}

std::vector<std::string> split_words(const char* text) {
  std::vector<std::string> words;
  std::istringstream stream(text);
  for (std::string word; stream >> word;) words.push_back(word);
  return words;
}

}  // namespace

H5Id float16_file_type(const H5Where& where) {
  H5Id type = h5_own(H5Tcopy(H5T_IEEE_F32LE), H5Kind::kDatatype, where, "create float16 type");
  // Narrow float32 to binary16: sign at bit 15, 5 exponent bits at 10, 10 mantissa bits at 0.
  h5_check(H5Tset_fields(type.get(), 15, 10, 5, 0, 10), where, "create float16 type");
  h5_check(H5Tset_precision(type.get(), 16), where, "create float16 type");
  h5_check(H5Tset_size(type.get(), 2), where, "create float16 type");
  h5_check(H5Tset_ebias(type.get(), 15), where, "create float16 type");
  return type;
}

H5Id open_recording_file(const std::string& path, unsigned flags) {
  // Read-only in the child whatever the flags: opening for writing may mark the file as open.
  check_structure_in_child([&] { return H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT); },
                           path);
  return h5_own(H5Fopen(path.c_str(), flags, H5P_DEFAULT), H5Kind::kFile, {path, ""},
                "open as HDF5 file");
}

H5Id open_recording_image(const void* data, size_t size, const std::string& label,
                          double check_timeout_s) {
  // The core (in-memory) driver over a copy of the image; no backing file is written.
  const H5Where where{label, ""};
  H5Id access = h5_own(H5Pcreate(H5P_FILE_ACCESS), H5Kind::kPropList, where, "open file image");
  constexpr size_t kGrowth = size_t{1} << 16;
  h5_check(H5Pset_fapl_core(access.get(), kGrowth, false), where, "open file image");
  // H5Pset_file_image copies the bytes; its pointer is not const only for historical reasons.
  if (size > 0) {
    h5_check(H5Pset_file_image(access.get(), const_cast<void*>(data), size), where,
             "open file image");
  }
  const auto open = [&] { return H5Fopen(label.c_str(), H5F_ACC_RDONLY, access.get()); };
  check_structure_in_child(open, label, check_timeout_s);
  return h5_own(open(), H5Kind::kFile, where, "open as HDF5 file image");
}

int check_format_version(hid_t file, const std::string& path) {
  const std::optional<int64_t> version = h5_read_int_attribute(file, kAttrFormat, {path, "/"});
  if (!version) {
    throw InvalidInput(path + " is not a headscope recording (no root attribute " + kAttrFormat +
                       ")");
  }
  if (*version > kFormatVersion) {
    throw InvalidInput(path + " was written by format version " + std::to_string(*version) +
                       "; this headscope reads version " + std::to_string(kFormatVersion));
  }
  if (*version < 1) {
    throw InvalidInput(path + ": invalid " + kAttrFormat + " " + std::to_string(*version));
  }
  return static_cast<int>(*version);
}

std::vector<int64_t> committed_runs(hid_t runs, const H5Where& where) {
  std::vector<int64_t> indices;
  for (const std::string& name : link_names(runs, where)) {
    if (std::optional<int64_t> index = run_index(name)) indices.push_back(*index);
  }
  std::sort(indices.begin(), indices.end());
  return indices;
}

std::vector<std::string> partial_runs(hid_t runs, const H5Where& where) {
  std::vector<std::string> names = link_names(runs, where);
  names.erase(
      std::remove_if(names.begin(), names.end(),
                     [](const std::string& name) { return name.rfind(kPartialRunPrefix, 0) != 0; }),
      names.end());
  return names;
}

std::string partial_run_name(int64_t index) {
  return kPartialRunPrefix + std::to_string(index);
}

std::string attention_stats_path(const std::string& dataset) {
  return std::string(kAttentionStats) + "/" + dataset;
}

std::string block_mass_layer_name(int64_t layer) {
  HS_ASSERT(layer >= 0);
  const std::string digits = std::to_string(layer);
  return "layer_" + std::string(digits.size() < 2 ? 2 - digits.size() : 0, '0') + digits;
}

std::string block_mass_path(int64_t layer) {
  return attention_stats_path(std::string(kStatBlockMass) + "/" + block_mass_layer_name(layer));
}

std::vector<std::string> dataset_paths(hid_t group, const H5Where& where) {
  std::vector<std::string> names;
  h5_check(H5Lvisit(group, H5_INDEX_NAME, H5_ITER_NATIVE, collect_dataset, &names), where,
           "list datasets");
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::string> dataset_dimensions(const std::string& name) {
  for (const DatasetDimensions& entry : kDatasetDimensions) {
    if (matches(entry.pattern, name)) return split_words(entry.dimensions);
  }
  return {};
}

bool is_dimension_name(const std::string& name) {
  for (const DatasetDimensions& entry : kDatasetDimensions) {
    const std::vector<std::string> dimensions = split_words(entry.dimensions);
    if (std::find(dimensions.begin(), dimensions.end(), name) != dimensions.end()) return true;
  }
  return false;
}

bool is_hook_name(const std::string& name) {
  if (name.find('/') != std::string::npos) return false;
  const size_t last_part = name.rfind('.') + 1;  // 0 when there is no dot
  return name.compare(last_part, 5, "hook_") == 0;
}

}  // namespace headscope
