// Analysis results in a headscope HDF5 file (item 9 of core/recording_schema.h): one group
// /analyses/<name> of small datasets whose axes carry dimension scales (layer, head, ...), and
// attributes holding every parameter of the analysis.
//
//   AnalysisGroupWriter out("run.h5", "head_importance", summarize(*model));
//   out.write_f64("importance", {4, 8}, values, {"layer", "head"});
//   out.set_attribute("task", "niah");
//   out.commit();
//
//   torch::Tensor scores = read_head_scores("run.h5", kRetrievalScoreDataset, model->config());
#pragma once

#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include <torch/types.h>

#include "core/hdf5_handle.h"
#include "core/model_config.h"
#include "core/recording_schema.h"

namespace headscope {

// Written by `headscope retrieval`: float64 [n_layers, n_heads].
inline constexpr char kRetrievalScoreDataset[] = "/analyses/retrieval_heads/score";

// The [n_layers, n_heads] float64 tensor at `dataset` (any floating type in the file). IoError
// when the file cannot be opened as HDF5; InvalidInput naming the file and dataset when it is
// missing, not floating point, or not shaped [config.n_layers, config.n_heads].
torch::Tensor read_head_scores(const std::string& path, const std::string& dataset,
                               const ModelConfig& config);

// Checks, before a long analysis, that AnalysisGroupWriter can write `path`: an existing file must be
// a headscope file of a model with model's layers and heads (InvalidInput), a new one needs an
// existing directory (IoError).
void check_analysis_target(const std::string& path, const ModelSummary& model);

// Writes /analyses/<name> into `path` with dimension scales on its axes (core/recording_writer.h
// AnalysisWriter is the plain variant: existing recordings only, no scales). A missing file is created as a recording without runs
// (root attributes from `model`) under a temporary name and renamed on commit. An existing one
// must be a headscope file of a model with the same layers and heads; the group is built as
// /analyses/.partial_<name> and replaces any older /analyses/<name> on commit. Destroyed
// uncommitted (an exception), it leaves the file as it was.
class AnalysisGroupWriter {
 public:
  AnalysisGroupWriter(std::string path, std::string name, const ModelSummary& model);
  AnalysisGroupWriter(const AnalysisGroupWriter&) = delete;
  AnalysisGroupWriter& operator=(const AnalysisGroupWriter&) = delete;
  ~AnalysisGroupWriter();

  // A dataset of the group, row-major data of shape's product of elements. `dimensions`
  // (empty, or one name per axis) attaches a 0..n-1 dimension scale of that name to each axis;
  // every dataset using a name must agree on its length.
  void write_f64(const std::string& name, const std::vector<int64_t>& shape,
                 const std::vector<double>& data, const std::vector<std::string>& dimensions = {});
  void write_i64(const std::string& name, const std::vector<int64_t>& shape,
                 const std::vector<int64_t>& data, const std::vector<std::string>& dimensions = {});

  // Group attributes; each replaces one of the same name.
  void set_attribute(const std::string& name, const std::string& value);
  void set_attribute(const std::string& name, const char* value);
  void set_attribute(const std::string& name, int64_t value);
  void set_attribute(const std::string& name, double value);
  // Other integer types (int literals, size_t) would be ambiguous between int64_t and double.
  template <typename Int, std::enable_if_t<std::is_integral_v<Int>, int> = 0>
  void set_attribute(const std::string& name, Int value) {
    set_attribute(name, static_cast<int64_t>(value));
  }

  void commit();

 private:
  H5Where where(const std::string& object) const;
  void write(const std::string& name, hid_t file_type, hid_t memory_type,
             const std::vector<int64_t>& shape, size_t elements, const void* data,
             const std::vector<std::string>& dimensions);
  void attach_scale(hid_t dataset, unsigned axis, const std::string& dimension, hsize_t length);

  std::string path_;       // the file users asked for
  std::string temp_path_;  // the file being written, when path_ did not exist
  std::string name_;
  std::string partial_;  // the group's name until commit
  H5Id file_;
  H5Id analyses_;
  H5Id group_;
  bool committed_ = false;
};

}  // namespace headscope
