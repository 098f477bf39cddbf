#include "gui/models/open_file.h"

#include <utility>

#include "core/base/error.h"
#include "core/store/hdf5_attribute.h"
#include "core/store/recording_schema.h"
#include "gui/models/hdf5_lock.h"

namespace headscope::gui {

std::shared_ptr<const OpenFile> OpenFile::open(const std::string& path) {
  auto lock = hdf5_lock();
  RecordingReader reader = RecordingReader::open(path);
  H5Id file = h5_own(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Kind::kFile, {path, ""},
                     "open as HDF5 file");
  return std::shared_ptr<const OpenFile>(new OpenFile(path, std::move(reader), std::move(file)));
}

OpenFile::OpenFile(std::string path, RecordingReader reader, H5Id file)
    : path_(std::move(path)), reader_(std::move(reader)), file_(std::move(file)) {
  name_ = path_.substr(path_.find_last_of('/') + 1);
  const H5Where root{path_, "/"};
  layers_ = h5_read_int_attribute(file_.get(), "n_layers", root).value_or(0);
  heads_ = h5_read_int_attribute(file_.get(), "n_heads", root).value_or(0);
  // A file made by an analysis alone has no /runs group.
  if (h5_path_exists(file_.get(), "runs", root)) run_count_ = reader_.run_count();
}

}  // namespace headscope::gui
