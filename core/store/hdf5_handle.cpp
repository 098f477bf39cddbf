#include "core/store/hdf5_handle.h"

#include <algorithm>
#include <utility>

#include "core/base/error.h"

namespace headscope {
namespace {

herr_t keep_innermost(unsigned depth, const H5E_error2_t* entry, void* client_data) {
  // No exception may unwind through HDF5's C frames.
  try {
    auto* message = static_cast<std::string*>(client_data);
    if (message->empty() && entry->desc != nullptr) *message = entry->desc;
    return 0;
  } catch (...) {
    return -1;
  }
}

// The innermost entry of the error stack says what actually went wrong ("name already exists",
// "file signature not found"); the outer ones only repeat the API call that failed.
std::string innermost_error() {
  std::string message;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, keep_innermost, &message);
  H5Eclear2(H5E_DEFAULT);
  // Operating-system failures append a dump of names and flags ("unable to lock file, errno =
  // 11, error message = '...', ..."); keep what failed and the strerror text.
  const std::string os_marker = "error message = '";
  const size_t os_start = message.find(os_marker);
  if (os_start != std::string::npos) {
    const size_t text_start = os_start + os_marker.size();
    const size_t text_end = message.find('\'', text_start);
    const size_t what_end = std::min(
        {message.find(": name = "), message.find(": time = "), message.find(", errno = ")});
    if (text_end != std::string::npos && what_end < os_start) {
      return message.substr(0, what_end) + ": " + message.substr(text_start, text_end - text_start);
    }
  }
  return message.substr(0, message.find('\n'));
}

}  // namespace

H5Id::H5Id(H5Id&& other) noexcept
    : id_(std::exchange(other.id_, H5I_INVALID_HID)), kind_(other.kind_) {}

H5Id& H5Id::operator=(H5Id&& other) noexcept {
  if (this != &other) {
    reset();
    id_ = std::exchange(other.id_, H5I_INVALID_HID);
    kind_ = other.kind_;
  }
  return *this;
}

void H5Id::reset() {
  if (id_ < 0) return;
  switch (kind_) {
    case H5Kind::kFile:
      H5Fclose(id_);
      break;
    case H5Kind::kGroup:
      H5Gclose(id_);
      break;
    case H5Kind::kDataset:
      H5Dclose(id_);
      break;
    case H5Kind::kDataspace:
      H5Sclose(id_);
      break;
    case H5Kind::kDatatype:
      H5Tclose(id_);
      break;
    case H5Kind::kPropList:
      H5Pclose(id_);
      break;
    case H5Kind::kAttribute:
      H5Aclose(id_);
      break;
    case H5Kind::kObject:
      H5Oclose(id_);
      break;
  }
  id_ = H5I_INVALID_HID;
}

std::recursive_mutex& hdf5_lock() {
  static std::recursive_mutex lock;
  return lock;
}

void h5_init() {
  // Thread-local because thread-safe HDF5 builds keep this setting per thread.
  thread_local const bool silenced = H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr) >= 0;
  HS_ASSERT(silenced);
}

void h5_fail(const H5Where& where, const std::string& action) {
  std::string message = where.str() + ": cannot " + action;
  const std::string detail = innermost_error();
  if (!detail.empty()) message += " (" + detail + ")";
  throw IoError(message);
}

int64_t h5_check(int64_t status, const H5Where& where, const std::string& action) {
  if (status < 0) h5_fail(where, action);
  return status;
}

H5Id h5_own(hid_t id, H5Kind kind, const H5Where& where, const std::string& action) {
  if (id < 0) h5_fail(where, action);
  return H5Id(id, kind);
}

bool h5_path_exists(hid_t group, const std::string& path, const H5Where& where) {
  for (size_t end = path.find('/');; end = path.find('/', end + 1)) {
    const std::string prefix = path.substr(0, end);
    if (prefix.empty() ||
        h5_check(H5Lexists(group, prefix.c_str(), H5P_DEFAULT), where, "look up object") == 0) {
      return false;
    }
    if (end == std::string::npos) return true;
  }
}

std::vector<hsize_t> h5_dataset_dims(hid_t dataset, const H5Where& where) {
  H5Id space = h5_own(H5Dget_space(dataset), H5Kind::kDataspace, where, "read shape");
  const int rank =
      static_cast<int>(h5_check(H5Sget_simple_extent_ndims(space.get()), where, "read shape"));
  std::vector<hsize_t> dims(rank);
  h5_check(H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr), where, "read shape");
  return dims;
}

}  // namespace headscope
