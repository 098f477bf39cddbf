// Writes recordings in the format of core/recording_schema.h: one file per model, one group per
// run, committed atomically so that an interrupted recording keeps every completed run.
#pragma once

#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "core/dtype.h"
#include "core/hdf5_handle.h"
#include "core/recording_schema.h"

namespace headscope {

// One run being written into /runs/.partial_<i>. commit() publishes it as /runs/<i>; destroying
// it uncommitted (an exception, an interrupted prompt) deletes the partial group.
// Stays valid after its RecordingWriter is gone: it holds its own HDF5 handles.
class RunWriter {
 public:
  RunWriter(RunWriter&&) noexcept = default;
  RunWriter& operator=(RunWriter&&) = delete;
  ~RunWriter();

  void write_tokens(const std::vector<int32_t>& tokens);
  // Strings must be valid UTF-8 without NUL bytes (InvalidInput otherwise).
  void write_token_text(const std::vector<std::string>& text);
  // A string attribute on the run (prompt, task, ...); replaces one of the same name.
  void set_attribute(const std::string& name, const std::string& value);

  // An attribute on a dataset or group of the run (object relative to the run group, e.g.
  // "attention_stats"; "" is the run itself); replaces one of the same name. Integers are
  // stored as int64, doubles as float64. InvalidInput when the object does not exist.
  void set_attribute(const std::string& object, const std::string& name, int64_t value);
  void set_attribute(const std::string& object, const std::string& name, double value);
  void set_attribute(const std::string& object, const std::string& name, const std::string& value);
  // Other integer types (int literals, size_t) would be ambiguous between int64_t and double.
  template <typename Int, std::enable_if_t<std::is_integral_v<Int>, int> = 0>
  void set_attribute(const std::string& object, const std::string& name, Int value) {
    set_attribute(object, name, static_cast<int64_t>(value));
  }

  // One dataset named `name` (a hook name; '/' makes nested groups) of the given shape, stored as
  // file_dtype (kF32, kF16, kI32 or kI64). data holds shape's product of elements of
  // data_dtype, row-major; data_dtype must equal file_dtype, except that kF32 data may be
  // stored as kF16 (rounded to nearest even). Names of dimensions (item 10 of
  // recording_schema.h: "pos", "head", ...) are reserved directly in the run group.
  void write_array(const std::string& name, DType file_dtype, const std::vector<int64_t>& shape,
                   DType data_dtype, const void* data);

  // The same dataset as write_array, empty (zeros until written), to be filled with write_slab:
  // for outputs produced piece by piece, such as attention_stats layer by layer.
  void create_array(const std::string& name, DType file_dtype, const std::vector<int64_t>& shape);
  // Writes the box [start, start + count) of a dataset made by create_array or write_array. data
  // holds count's product of elements of data_dtype, row-major, with write_array's dtype rule.
  // InvalidInput naming the dataset when it does not exist or the box is out of bounds. A box
  // made of whole chunks (one layer of an attention_stats dataset, one head of a pattern) writes
  // each chunk once; a smaller one reads back and rewrites the chunks it touches.
  void write_slab(const std::string& name, const std::vector<int64_t>& start,
                  const std::vector<int64_t>& count, DType data_dtype, const void* data);

  // Attaches dimension scales to the run's datasets (item 10 of recording_schema.h), renames the
  // run to /runs/<i> and flushes the file. No call may follow. InvalidInput when a
  // block_mass dataset exists but attention_stats has no integer attribute block_size.
  void commit();

 private:
  friend class RecordingWriter;
  RunWriter(std::string path, H5Id runs, H5Id group, int64_t index);

  H5Where where(const std::string& name) const;
  // The dataset or group at a path relative to the run ("" is the run); InvalidInput if absent.
  H5Id open_object(const std::string& object) const;
  void attach_dimension_scales();

  std::string path_;
  H5Id runs_;
  H5Id group_;  // closed once committed
  int64_t index_;
};

// Writes one analysis result, /analyses/<name>/ (item 9 of recording_schema.h), into an existing
// recording. Datasets and attributes go into /analyses/.partial_<name>; commit() replaces any
// earlier /analyses/<name> with it and flushes, so the file never shows a half-written analysis.
// Destroying it uncommitted deletes the partial group.
class AnalysisWriter {
 public:
  // IoError when the file is missing or not HDF5; InvalidInput when it is not a recording, was
  // written by a newer format, or `name` is not one plain group name.
  static AnalysisWriter begin(const std::string& path, const std::string& name);
  AnalysisWriter(AnalysisWriter&&) noexcept = default;
  AnalysisWriter& operator=(AnalysisWriter&&) = delete;
  ~AnalysisWriter();

  // A dataset (name relative to the analysis group; '/' nests) of kF64, kF32, kI32 or kI64
  // elements, stored as they are; data holds shape's product of elements, row-major.
  void write_array(const std::string& name, DType dtype, const std::vector<int64_t>& shape,
                   const void* data);
  // A 1-D dataset of UTF-8 strings (InvalidInput naming the element that is not UTF-8 or holds
  // a NUL).
  void write_strings(const std::string& name, const std::vector<std::string>& values);

  // Attributes of the analysis group (object "") or of one of its datasets; replace one of the
  // same name. Lists become 1-D attributes, which h5py reads as numpy arrays.
  void set_attribute(const std::string& object, const std::string& name, int64_t value);
  void set_attribute(const std::string& object, const std::string& name, double value);
  void set_attribute(const std::string& object, const std::string& name, const std::string& value);
  void set_attribute(const std::string& object, const std::string& name,
                     const std::vector<double>& values);
  void set_attribute(const std::string& object, const std::string& name,
                     const std::vector<int64_t>& values);
  template <typename Int, std::enable_if_t<std::is_integral_v<Int>, int> = 0>
  void set_attribute(const std::string& object, const std::string& name, Int value) {
    set_attribute(object, name, static_cast<int64_t>(value));
  }
  void set_attribute(const std::string& object, const std::string& name, const char* value) {
    set_attribute(object, name, std::string(value));
  }

  // Publishes the group as /analyses/<name> (replacing an earlier one) and flushes the file.
  void commit();

 private:
  AnalysisWriter(std::string path, std::string name, H5Id file, H5Id analyses, H5Id group);

  H5Where where(const std::string& object) const;
  H5Id open_object(const std::string& object) const;
  void write_list_attribute(const std::string& object, const std::string& name, hid_t file_type,
                            hid_t memory_type, size_t count, const void* data);

  std::string path_;
  std::string name_;
  H5Id file_;
  H5Id analyses_;
  H5Id group_;  // closed once committed
};

class RecordingWriter {
 public:
  // Creates (or replaces) a recording for the model.
  static RecordingWriter create(const std::string& path, const ModelSummary& model);
  // Opens an existing recording to add runs; deletes partial runs a crash left behind.
  static RecordingWriter open_append(const std::string& path);

  // Starts run <i>, i one past the highest committed run (skipping runs still in progress).
  RunWriter begin_run();
  int64_t run_count() const;

 private:
  RecordingWriter(std::string path, H5Id file, H5Id runs);

  std::string path_;
  H5Id file_;
  H5Id runs_;
};

}  // namespace headscope
