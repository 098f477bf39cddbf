#include "gui/models/number_array.h"

#include "core/base/error.h"
#include "core/store/hdf5_attribute.h"
#include "core/store/hdf5_handle.h"

namespace headscope::gui {

namespace {

// Checked first, so that a file without the dataset gives this line, not HDF5's error stack.
void check_exists(const OpenFile& file, const std::string& path) {
  if (!has_path(file, path)) throw IoError(file.path() + ": " + path + ": no such dataset");
}

}  // namespace

NumberArray read_number_array(const OpenFile& file, const std::string& path) {
  check_exists(file, path);
  const H5Where where{file.path(), path};
  H5Id dataset = h5_own(H5Dopen2(file.handle(), path.c_str(), H5P_DEFAULT), H5Kind::kDataset, where,
                        "open dataset");
  NumberArray out;
  size_t count = 1;
  for (hsize_t d : h5_dataset_dims(dataset.get(), where)) {
    out.shape.push_back(static_cast<int64_t>(d));
    count *= d;
  }
  out.values.resize(count);
  if (count > 0) {
    h5_check(
        H5Dread(dataset.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.values.data()),
        where, "read");
  }
  return out;
}

std::vector<double> read_shaped_array(const OpenFile& file, const std::string& path,
                                      const std::vector<int64_t>& shape, const char* dimensions) {
  NumberArray array = read_number_array(file, path);
  if (array.shape != shape) {
    throw InvalidInput(file.path() + ": " + path + ": expected " + shape_text(shape) + " (" +
                       dimensions + "), found " + shape_text(array.shape));
  }
  return std::move(array.values);
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + "]";
}

std::vector<std::string> read_string_array(const OpenFile& file, const std::string& path) {
  check_exists(file, path);
  const H5Where where{file.path(), path};
  H5Id dataset = h5_own(H5Dopen2(file.handle(), path.c_str(), H5P_DEFAULT), H5Kind::kDataset, where,
                        "open dataset");
  return h5_read_string_dataset(dataset.get(), where);
}

bool has_path(const OpenFile& file, const std::string& path) {
  HS_ASSERT(!path.empty() && path[0] == '/');
  // h5_path_exists takes a path relative to the group it is given: here the root.
  return h5_path_exists(file.handle(), path.substr(1), H5Where{file.path(), "/"});
}

}  // namespace headscope::gui
