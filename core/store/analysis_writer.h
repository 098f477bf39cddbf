// Writes one analysis result, /analyses/<name>/ (item 9 of core/store/recording_schema.h): datasets
// whose axes carry named dimension scales, and attributes holding every parameter.
//
//   AnalysisWriter out = AnalysisWriter::begin("run.h5", "head_importance", summarize(*model));
//   out.write_f64("importance", {4, 8}, values, {"layer", "head"});
//   out.set_attribute("", "task", "niah");
//   out.commit();
//
// Nothing is visible until commit(): the group is built as /analyses/.partial_<name> (and a new
// file under a temporary name), so a writer destroyed uncommitted (an exception, Ctrl-C) leaves
// the file as it was.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/base/dtype.h"
#include "core/store/group_writer.h"
#include "core/store/hdf5_handle.h"
#include "core/store/output_mode.h"
#include "core/store/recording_schema.h"
#include "core/store/staged_file.h"

namespace headscope {

// Where a command's analysis goes: the file, the model it is of, and what to do with an
// existing file (--append adds the analysis, --force replaces the file).
struct AnalysisTarget {
  std::string path;
  ModelSummary model;
  OutputMode mode = OutputMode::kAppend;
};

// Attributes of the analysis group (object "") or of one of its datasets come from GroupWriter:
// each replaces one of the same name; lists become 1-D attributes (numpy arrays in h5py).
class AnalysisWriter : public GroupWriter {
 public:
  // Into an existing recording, whatever its model (retrieval writes next to its runs; its
  // command checks the model first). IoError when the file is missing, not HDF5 or open in
  // another process; InvalidInput when it is not a recording, was written by a newer format,
  // or `name` is not one plain group name.
  static AnalysisWriter begin(const std::string& path, const std::string& name);
  // Into `path`, created when missing as a recording without runs (root attributes from `model`)
  // under a temporary name (staging_path) that commit() moves into place. An existing file must
  // be a recording of the same model (same_model in core/store/same_model.h; InvalidInput naming
  // both models) that no other process has open (IoError).
  static AnalysisWriter begin(const std::string& path, const std::string& name,
                              const ModelSummary& model);
  // Into `path` as `mode` says (core/store/output_mode.h): kNew and kReplace write a recording
  // without runs under a temporary name that commit() moves into place; kAppend as above.
  static AnalysisWriter begin(const AnalysisTarget& target, const std::string& name);
  // One analysis of a collection, /analyses/<collection>/<name> (circuits: one per task or
  // method): only that group is staged and replaced by commit(); the collection's other groups
  // are kept. The collection group is created when missing, and removed again when the writer is
  // abandoned. Dimension scales live in the <name> group.
  static AnalysisWriter begin(const AnalysisTarget& target, const std::string& collection,
                              const std::string& name);

  AnalysisWriter(AnalysisWriter&&) noexcept = default;
  AnalysisWriter& operator=(AnalysisWriter&&) = delete;
  ~AnalysisWriter() = default;

  // A dataset (name relative to the analysis group; '/' nests) of kF64, kF32, kI32 or kI64
  // elements, stored as they are; data holds shape's product of elements, row-major.
  // `dimensions` is empty or names every axis: each name becomes a dimension scale in the
  // analysis group (0..n-1 unless write_scale gave it values), attached to that axis and used as
  // its label, so xarray opens the group with named axes. Every dataset using a dimension must
  // agree on its length (InvalidInput naming the dataset and dimension otherwise).
  void write_array(const std::string& name, DType dtype, const std::vector<int64_t>& shape,
                   const void* data, const std::vector<std::string>& dimensions = {});
  void write_f64(const std::string& name, const std::vector<int64_t>& shape,
                 const std::vector<double>& data, const std::vector<std::string>& dimensions = {});
  void write_i64(const std::string& name, const std::vector<int64_t>& shape,
                 const std::vector<int64_t>& data, const std::vector<std::string>& dimensions = {});
  // A 1-D dataset of UTF-8 strings (InvalidInput naming the element that is not UTF-8 or holds
  // a NUL); `dimension` ("" for none) names its axis as above.
  void write_strings(const std::string& name, const std::vector<std::string>& values,
                     const std::string& dimension = "");

  // The values of a dimension scale, instead of 0..n-1: context lengths in tokens, config names.
  // Must come before the first dataset using the dimension; fixes its length.
  void write_scale(const std::string& dimension, const std::vector<int64_t>& values);
  void write_scale(const std::string& dimension, const std::vector<std::string>& values);

  // Publishes the group as /analyses/<name> or /analyses/<collection>/<name> (replacing an
  // earlier one of that name, keeping every other analysis),
  // flushes, and renames a new file into place. No call may follow.
  void commit();

 private:
  // model null: an existing recording of any model; collection "": /analyses/<name>.
  static AnalysisWriter open(const std::string& path, const std::string& collection,
                             const std::string& name, const ModelSummary* model, OutputMode mode);
  AnalysisWriter(std::string path, PartialGroup group, std::shared_ptr<StagedFile> staged)
      : GroupWriter(std::move(path), std::move(group), std::move(staged)) {}

  // InvalidInput unless `name` is a valid path not yet written and not under a scale's name.
  void check_new_name(const std::string& name, const H5Where& where) const;
  void check_new_scale(const std::string& dimension, const H5Where& where) const;
  // The dimension scale named `dimension` of length `length`, created 0..n-1 when absent.
  H5Id scale_for(const std::string& dimension, hsize_t length, const H5Where& user);
  void attach_scales(hid_t dataset, const std::vector<hsize_t>& dims,
                     const std::vector<std::string>& dimensions, const H5Where& where);

  std::vector<std::string> scales_;
};

// Checks, before a long analysis, that AnalysisWriter::begin(path, name, model) will succeed:
// an existing file must be a recording of the same model (InvalidInput naming both) that no
// other process has open (IoError); a new one needs an existing directory (IoError).
void check_analysis_target(const std::string& path, const ModelSummary& model);
// The same for an explicit mode: kReplace needs only that no other process has the file open.
void check_analysis_target(const std::string& path, const ModelSummary& model, OutputMode mode);

}  // namespace headscope
