// Writes recordings in the format of core/store/recording_schema.h: one file per model, one group
// per run, committed atomically so that an interrupted recording keeps every completed run, and a
// file that already exists is never destroyed (RecordingWriter::open).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/base/dtype.h"
#include "core/store/chunk_write_queue.h"
#include "core/store/group_writer.h"
#include "core/store/hdf5_handle.h"
#include "core/store/output_mode.h"
#include "core/store/recording_schema.h"
#include "core/store/staged_file.h"

namespace headscope {

// One run being written into /runs/.partial_<i>. commit() publishes it as /runs/<i>; destroying
// it uncommitted (an exception, an interrupted prompt) deletes the partial group.
// Stays valid after its RecordingWriter is gone: it holds its own HDF5 handles.
// Attributes (set_attribute(object, name, value), object relative to the run, e.g.
// "attention_stats"; "" is the run itself) come from GroupWriter.
class RunWriter : public GroupWriter {
 public:
  RunWriter(RunWriter&&) noexcept = default;
  RunWriter& operator=(RunWriter&&) = delete;
  ~RunWriter() = default;

  void write_tokens(const std::vector<int32_t>& tokens);
  // Strings must be valid UTF-8 without NUL bytes (InvalidInput otherwise).
  void write_token_text(const std::vector<std::string>& text);
  // A string attribute on the run (prompt, task, ...); replaces one of the same name.
  void set_attribute(const std::string& name, const std::string& value);
  using GroupWriter::set_attribute;

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

  // Overlapped writes (core/store/chunk_write_queue.h): from this call on, write_slab_deferred
  // compresses boxes of whole chunks in the background, within options' byte budget (a second
  // call writes what is in flight first).
  void defer_writes(const ChunkWriteQueueOptions& options);
  // write_slab, with the same checks at once, for data that is kept alive by `source` (and may
  // be made ready later: source.wait_ready). With defer_writes, a box of whole chunks is written
  // by a later write_slab_deferred, flush_deferred() or commit(), and its error (IoError) comes
  // from there; any other box is written at once, as write_slab does.
  void write_slab_deferred(const std::string& name, const std::vector<int64_t>& start,
                           const std::vector<int64_t>& count, DType data_dtype,
                           DeferredSource source, size_t source_bytes);
  // Writes every deferred box.
  void flush_deferred();
  // Where the deferred writes' time went; all zero without defer_writes.
  ChunkWriteTimes deferred_times() const;

  // Writes the deferred boxes, attaches dimension scales to the run's datasets (item 10 of
  // recording_schema.h), renames the run to /runs/<i> and flushes the file. The first run of an
  // OutputMode::kNew recording then moves the file to its name; a kReplace recording's temporary is
  // from then on kept by Ctrl-C. No call may follow. InvalidInput when a block_mass dataset exists
  // but attention_stats has no integer attribute block_size.
  void commit();

 private:
  friend class RecordingWriter;
  RunWriter(std::string path, PartialGroup group, std::shared_ptr<StagedFile> staged);

  void attach_dimension_scales();
  struct Slab;
  Slab open_slab(const std::string& name, const std::vector<int64_t>& start,
                 const std::vector<int64_t>& count, DType data_dtype) const;

  // Declared last: destroyed, with its dataset handles, before the group.
  std::unique_ptr<ChunkWriteQueue> deferred_;
};

class RecordingWriter {
 public:
  // The recording a command writes at `path` for `model`, as `mode` says. Bad input fails
  // before any file is touched.
  static RecordingWriter open(const std::string& path, const ModelSummary& model, OutputMode mode);
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

}  // namespace headscope
