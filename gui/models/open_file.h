// One headscope file opened by the explorer: checked once on opening (HDF5 structure, format
// version), then shared read-only by the file panel and the worker threads' reads. Every use
// of reader() or handle() holds hdf5_lock().
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/store/hdf5_handle.h"
#include "core/store/recording_reader.h"

namespace headscope::gui {

class OpenFile {
 public:
  // IoError when the file is missing, truncated or not HDF5; InvalidInput when it is not a
  // headscope file or was written by a newer format version (RecordingReader::open's messages,
  // which name the file).
  static std::shared_ptr<const OpenFile> open(const std::string& path);

  const std::string& path() const { return path_; }
  // The file name without its folders, as the panel and the views' titles show it.
  const std::string& name() const { return name_; }
  const RecordingReader& reader() const { return reader_; }
  hid_t handle() const { return file_.get(); }
  // From the root attributes; 0 when a file has none (the views then take shapes as found).
  int64_t layers() const { return layers_; }
  int64_t heads() const { return heads_; }
  int64_t run_count() const { return run_count_; }

 private:
  OpenFile(std::string path, RecordingReader reader, H5Id file);

  std::string path_;
  std::string name_;
  RecordingReader reader_;
  H5Id file_;  // a second handle on the same file, for walking groups outside the runs
  int64_t layers_ = 0;
  int64_t heads_ = 0;
  int64_t run_count_ = 0;
};

}  // namespace headscope::gui
