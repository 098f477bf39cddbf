// Writes recordings in the format of core/store/recording_schema.h: one file per model, one group per
// run, committed atomically so that an interrupted recording keeps every completed run, and a
// file that already exists is never destroyed (RecordingWriter::open).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "core/base/dtype.h"
#include "core/store/hdf5_handle.h"
#include "core/store/output_mode.h"
#include "core/store/recording_schema.h"
#include "core/store/staged_file.h"

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
  // run to /runs/<i> and flushes the file. The first run of an OutputMode::kNew recording then
  // moves the file to its name; a kReplace recording's temporary is from then on kept by
  // Ctrl-C. No call may follow. InvalidInput when a block_mass dataset
  // exists but attention_stats has no integer attribute block_size.
  void commit();

 private:
  friend class RecordingWriter;
  RunWriter(std::string path, H5Id runs, H5Id group, int64_t index,
            std::shared_ptr<StagedFile> staged);

  H5Where where(const std::string& name) const;
  // The dataset or group at a path relative to the run ("" is the run); InvalidInput if absent.
  H5Id open_object(const std::string& object) const;
  void attach_dimension_scales();

  std::string path_;
  H5Id runs_;
  H5Id group_;  // closed once committed
  int64_t index_;
  std::shared_ptr<StagedFile> staged_;  // the file when it is not yet at its name, else null
};

class RecordingWriter {
 public:
  // The recording a command writes at `path` for `model`, as `mode` says. Bad input fails
  // before any file is touched.
  static RecordingWriter open(const std::string& path, const ModelSummary& model,
                              OutputMode mode);
  // A new recording written at `path` itself (visible at once, empty): for files nobody else
  // knows yet, such as a staging_path. InvalidInput when path exists.
  static RecordingWriter create(const std::string& path, const ModelSummary& model);
  // Opens an existing recording to add runs of `model`, and deletes partial runs a crash left
  // behind. InvalidInput naming both models when the file was recorded from another one
  // (same_model in core/store/same_model.h); IoError when another process has it open.
  static RecordingWriter open_append(const std::string& path, const ModelSummary& model);

  // Starts run <i>, i one past the highest committed run (skipping runs still in progress).
  RunWriter begin_run();
  int64_t run_count() const;

  // Closes the file, after the last run's commit, and moves a staged file to its name: a
  // kReplace recording replaces the old file only here, complete. Without finish(), an
  // unpublished staged file is deleted when the writer goes (the old file, if any, stays).
  void finish();

 private:
  RecordingWriter(std::string path, H5Id file, H5Id runs);

  std::string path_;
  std::shared_ptr<StagedFile> staged_;  // declared before file_: the file closes first
  H5Id file_;
  H5Id runs_;
};

// Checks and storage shared by RunWriter and AnalysisWriter (core/store/analysis_writer.h).

// InvalidInput "FILE: OBJECT: WHAT must be UTF-8 without NUL bytes; byte N is not": text that
// h5py could not read back as str.
void check_hdf5_text(const std::string& text, const H5Where& where, const std::string& what);
// InvalidInput naming `name` unless it is non-empty '/'-separated parts, none empty or ".".
void check_object_path(const std::string& name, const H5Where& where);
// The shape as HDF5 extents; InvalidInput naming the axis that is negative.
std::vector<hsize_t> checked_dims(const std::vector<int64_t>& shape, const H5Where& where);
// The file type of dtype: kF64, kF32, kF16 (IEEE half), kI32 or kI64, little-endian;
// InvalidInput naming `where` for any other.
H5Id recording_file_type(DType dtype, const H5Where& where);
// The memory type of data already in the file's dtype; float16 bits are laid out as in the file
// (`stored`; little-endian hosts only, like every machine headscope targets).
hid_t recording_memory_type(DType dtype, hid_t stored);
// The dataset or group at `object`, a path relative to `group` ("" is the group itself);
// InvalidInput "WHERE: no such dataset or group" when absent. `where` names the object.
H5Id open_child_object(hid_t group, const std::string& object, const H5Where& where);
// A scalar attribute on an open object (replacing one of the same name), the name and a string
// value checked with check_hdf5_text first.
void write_checked_attribute(hid_t target, const H5Where& where, const std::string& name,
                             int64_t value);
void write_checked_attribute(hid_t target, const H5Where& where, const std::string& name,
                             double value);
void write_checked_attribute(hid_t target, const H5Where& where, const std::string& name,
                             const std::string& value);
// A dataset stored as item 6 of recording_schema.h (chunked with shuffle + deflate unless empty
// or scalar); '/' in name makes the groups on the way.
H5Id create_recording_dataset(hid_t group, const std::string& name, hid_t type,
                              const std::vector<hsize_t>& dims, const H5Where& where);

}  // namespace headscope
