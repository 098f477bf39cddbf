// Writes recordings in the format of core/recording_schema.h: one file per model, one group per
// run, committed atomically so that an interrupted recording keeps every completed run.
#pragma once

#include <cstdint>
#include <string>
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

  // One dataset named `name` (a hook name; '/' makes nested groups) of the given shape, stored as
  // file_dtype (kF32, kF16, kI32 or kI64). data holds shape's product of elements of
  // data_dtype, row-major; data_dtype must equal file_dtype, except that kF32 data may be
  // stored as kF16 (rounded to nearest even).
  void write_array(const std::string& name, DType file_dtype, const std::vector<int64_t>& shape,
                   DType data_dtype, const void* data);

  // Renames the run to /runs/<i> and flushes the file. No call may follow.
  void commit();

 private:
  friend class RecordingWriter;
  RunWriter(std::string path, H5Id runs, H5Id group, int64_t index);

  H5Where where(const std::string& name) const;

  std::string path_;
  H5Id runs_;
  H5Id group_;  // closed once committed
  int64_t index_;
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
