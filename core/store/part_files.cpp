#include "core/store/part_files.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <utility>

#include "core/base/error.h"
#include "core/store/group_writer.h"
#include "core/store/hdf5_attribute.h"
#include "core/store/part_file_schema.h"
#include "core/store/recording_writer.h"

namespace headscope {
namespace {

// A part file's run and its index in the main file.
struct PartRun {
  int64_t index;
  size_t part;         // into the list of part files
  std::string object;  // /runs/<j> in the part file
};

// The committed runs of one part file and their main-file indices.
std::vector<PartRun> part_runs(const std::string& part, size_t which) {
  H5Id file = open_recording_file(part, H5F_ACC_RDONLY);
  check_format_version(file.get(), part);
  const H5Where where{part, kRunsGroup};
  H5Id runs =
      h5_own(H5Gopen2(file.get(), kRunsGroup, H5P_DEFAULT), H5Kind::kGroup, where, "open group");
  std::vector<PartRun> found;
  for (const int64_t j : committed_runs(runs.get(), where)) {
    const std::string object = std::string(kRunsGroup) + "/" + std::to_string(j);
    const H5Where run_where{part, object};
    H5Id run = h5_own(H5Gopen2(file.get(), object.c_str(), H5P_DEFAULT), H5Kind::kGroup, run_where,
                      "open group");
    const auto index = h5_read_int_attribute(run.get(), kAttrRunIndex, run_where);
    if (!index) {
      throw InvalidInput(run_where.str() + ": no attribute " + kAttrRunIndex +
                         " (not a part file of a distributed recording)");
    }
    found.push_back({*index, which, object});
  }
  return found;
}

void write_int64_array_attribute(hid_t object, const char* name, const std::vector<int64_t>& values,
                                 const H5Where& where) {
  const hsize_t size = values.size();
  H5Id space =
      h5_own(H5Screate_simple(1, &size, nullptr), H5Kind::kDataspace, where, "create dataspace");
  H5Id attribute =
      h5_own(H5Acreate2(object, name, H5T_STD_I64LE, space.get(), H5P_DEFAULT, H5P_DEFAULT),
             H5Kind::kAttribute, where, std::string("create attribute ") + name);
  // An empty attribute has nothing to write (and HDF5 refuses the null buffer).
  if (values.empty()) return;
  h5_check(H5Awrite(attribute.get(), H5T_NATIVE_INT64, values.data()), where,
           std::string("write attribute ") + name);
}

// HDF5's object copy leaves the dimension scales' references pointing into the source file
// (H5Ocopy in 1.10 does not map references between files, expanded or not): the copied run's
// datasets get their scales attached again, to the copied scales, as the writer attached them.
void reattach_dimension_scales(hid_t run, const H5Where& where) {
  std::vector<std::pair<std::string, std::vector<std::string>>> scaled;
  for (const std::string& name : dataset_paths(run, where)) {
    if (h5_check(H5Aexists_by_name(run, name.c_str(), "DIMENSION_LIST", H5P_DEFAULT), where,
                 "look up scales of " + name) > 0) {
      h5_check(H5Adelete_by_name(run, name.c_str(), "DIMENSION_LIST", H5P_DEFAULT), where,
               "detach scales of " + name);
      scaled.emplace_back(name, dataset_dimensions(name));
    }
  }
  std::map<std::string, H5Id> scales;
  for (const auto& [name, dimensions] : scaled) {
    for (const std::string& dimension : dimensions) {
      if (scales.count(dimension) != 0) continue;
      H5Id scale = h5_own(H5Dopen2(run, dimension.c_str(), H5P_DEFAULT), H5Kind::kDataset, where,
                          "open dimension scale " + dimension);
      if (h5_check(H5Aexists(scale.get(), "REFERENCE_LIST"), where, "look up scale users") > 0) {
        h5_check(H5Adelete(scale.get(), "REFERENCE_LIST"), where, "reset scale " + dimension);
      }
      scales.emplace(dimension, std::move(scale));
    }
  }
  for (const auto& [name, dimensions] : scaled) {
    H5Id dataset = h5_own(H5Dopen2(run, name.c_str(), H5P_DEFAULT), H5Kind::kDataset, where,
                          "open dataset " + name);
    for (unsigned axis = 0; axis < dimensions.size(); ++axis) {
      attach_dimension_scale(dataset.get(), scales.at(dimensions[axis]).get(), axis,
                             dimensions[axis], where);
    }
  }
}

}  // namespace

std::string part_file_path(const std::string& path, int64_t rank) {
  const std::filesystem::path main(path);
  std::filesystem::path part = main;
  part.replace_filename(main.stem().string() + kPartFileInfix + std::to_string(rank) +
                        main.extension().string());
  return part.string();
}

GatheredRecording gather_part_files(const std::string& path, StagedFile::Target target,
                                    const ModelSummary& model,
                                    const std::vector<std::string>& parts, int64_t run_count) {
  GatheredRecording result;
  std::vector<PartRun> found;
  for (size_t p = 0; p < parts.size(); ++p) {
    try {
      for (PartRun& run : part_runs(parts[p], p)) {
        if (run.index >= 0 && run.index < run_count) found.push_back(std::move(run));
      }
    } catch (const Error& e) {
      result.unreadable.push_back(e.what());
    }
  }
  std::sort(found.begin(), found.end(),
            [](const PartRun& a, const PartRun& b) { return a.index < b.index; });
  found.erase(std::unique(found.begin(), found.end(),
                          [](const PartRun& a, const PartRun& b) { return a.index == b.index; }),
              found.end());

  StagedFile staged(path, target);
  RecordingWriter::create(staged.path(), model).finish();
  {
    H5Id file = open_recording_file(staged.path(), H5F_ACC_RDWR);
    const H5Where where{path, kRunsGroup};
    H5Id runs =
        h5_own(H5Gopen2(file.get(), kRunsGroup, H5P_DEFAULT), H5Kind::kGroup, where, "open group");
    std::vector<H5Id> sources(parts.size());
    for (const PartRun& run : found) {
      const std::string& part = parts[run.part];
      if (!sources[run.part]) sources[run.part] = open_recording_file(part, H5F_ACC_RDONLY);
      const std::string name = std::to_string(run.index);
      const H5Where run_where{path, std::string(kRunsGroup) + "/" + name};
      h5_check(H5Ocopy(sources[run.part].get(), run.object.c_str(), runs.get(), name.c_str(),
                       H5P_DEFAULT, H5P_DEFAULT),
               run_where, "copy " + part + ":" + run.object);
      H5Id copied = h5_own(H5Gopen2(runs.get(), name.c_str(), H5P_DEFAULT), H5Kind::kGroup,
                           run_where, "open group");
      h5_check(H5Adelete(copied.get(), kAttrRunIndex), run_where,
               std::string("delete attribute ") + kAttrRunIndex);
      reattach_dimension_scales(copied.get(), run_where);
      result.copied.push_back(run.index);
    }
    for (int64_t i = 0, at = 0; i < run_count; ++i) {
      if (at < static_cast<int64_t>(result.copied.size()) && result.copied[at] == i) {
        ++at;
      } else {
        result.missing.push_back(i);
      }
    }
    write_int64_array_attribute(runs.get(), kAttrMissingRuns, result.missing, where);
    h5_check(H5Fflush(file.get(), H5F_SCOPE_LOCAL), {path, ""}, "flush file");
  }
  staged.publish();
  return result;
}

}  // namespace headscope
