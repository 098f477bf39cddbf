#include "core/store/recording_structure_check.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "core/base/error.h"

namespace headscope {
namespace {

// The walk runs in the child and reports through the pipe: no exceptions, no allocation it
// cannot bound, and the first failure's object and HDF5 message.
struct Walk {
  std::string failure;  // "OBJECT: what failed", empty while all is well
};

// HDF5's innermost error message, for the failure report.
herr_t keep_innermost(unsigned, const H5E_error2_t* entry, void* message) {
  auto* text = static_cast<std::string*>(message);
  if (text->empty() && entry->desc != nullptr) *text = entry->desc;
  return 0;
}

bool failed(Walk& walk, const std::string& object, const char* action) {
  std::string detail;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, keep_innermost, &detail);
  H5Eclear2(H5E_DEFAULT);
  walk.failure = object + ": cannot " + action + (detail.empty() ? "" : " (" + detail + ")");
  return false;
}

// Attributes and variable-length datasets are read whole; no recording holds more elements in
// one than this (token_text of a 64K-token run is far below it).
constexpr hssize_t kMaxElementsRead = hssize_t{1} << 24;

// Reads every element of an attribute or dataset with its own type, which HDF5 converts to the
// native layout (variable-length data included), then frees what HDF5 allocated.
bool read_values(Walk& walk, hid_t object, bool is_attribute, const std::string& name) {
  const hid_t type = is_attribute ? H5Aget_type(object) : H5Dget_type(object);
  if (type < 0) return failed(walk, name, "read type");
  const hid_t space = is_attribute ? H5Aget_space(object) : H5Dget_space(object);
  const hid_t native = H5Tget_native_type(type, H5T_DIR_DEFAULT);
  const hssize_t count = space < 0 ? -1 : H5Sget_simple_extent_npoints(space);
  const size_t size = native < 0 ? 0 : H5Tget_size(native);
  bool ok = true;
  if (space < 0 || native < 0 || count < 0 || size == 0) {
    ok = failed(walk, name, "read type and shape");
  } else if (count > kMaxElementsRead) {
    walk.failure = name + ": " + std::to_string(count) + " elements, more than a recording holds";
    ok = false;
  } else if (count > 0) {
    std::vector<unsigned char> values(static_cast<size_t>(count) * size);
    const herr_t read = is_attribute
                            ? H5Aread(object, native, values.data())
                            : H5Dread(object, native, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data());
    if (read < 0) {
      ok = failed(walk, name, "read values");
    } else if (H5Tdetect_class(native, H5T_VLEN) > 0 || H5Tis_variable_str(native) > 0) {
      H5Dvlen_reclaim(native, space, H5P_DEFAULT, values.data());
    }
  }
  if (native >= 0) H5Tclose(native);
  if (space >= 0) H5Sclose(space);
  H5Tclose(type);
  return ok;
}

herr_t visit_attribute(hid_t object, const char* name, const H5A_info_t*, void* data) {
  auto& walk = *static_cast<Walk*>(data);
  const hid_t attribute = H5Aopen(object, name, H5P_DEFAULT);
  if (attribute < 0) return failed(walk, std::string("attribute ") + name, "open") ? 0 : -1;
  const bool ok = read_values(walk, attribute, true, std::string("attribute ") + name);
  H5Aclose(attribute);
  return ok ? 0 : -1;
}

// A dataset's chunk index (each chunk's address and size), and the whole of a dataset of
// variable-length strings, whose values live in the global heap.
bool check_dataset(Walk& walk, hid_t dataset, const std::string& name) {
  const hid_t space = H5Dget_space(dataset);
  if (space < 0) return failed(walk, name, "read shape");
  hsize_t chunks = 0;
  bool ok = true;
  const hid_t plist = H5Dget_create_plist(dataset);
  if (plist < 0) {
    ok = failed(walk, name, "read storage layout");
  } else if (H5Pget_layout(plist) == H5D_CHUNKED) {
    if (H5Dget_num_chunks(dataset, space, &chunks) < 0) ok = failed(walk, name, "list chunks");
    for (hsize_t i = 0; ok && i < chunks; ++i) {
      haddr_t address = 0;
      hsize_t size = 0;
      if (H5Dget_chunk_info(dataset, space, i, nullptr, nullptr, &address, &size) < 0) {
        ok = failed(walk, name, "read chunk index");
      }
    }
  }
  if (plist >= 0) H5Pclose(plist);
  H5Sclose(space);
  const hid_t type = H5Dget_type(dataset);
  if (ok && type < 0) ok = failed(walk, name, "read type");
  if (ok && (H5Tdetect_class(type, H5T_VLEN) > 0 || H5Tis_variable_str(type) > 0)) {
    ok = read_values(walk, dataset, false, name);
  }
  if (type >= 0) H5Tclose(type);
  return ok;
}

herr_t visit_object(hid_t root, const char* name, const H5O_info_t* info, void* data) {
  auto& walk = *static_cast<Walk*>(data);
  const std::string path = std::string("/") + (std::strcmp(name, ".") == 0 ? "" : name);
  const hid_t object = H5Oopen(root, name, H5P_DEFAULT);
  if (object < 0) return failed(walk, path, "open object") ? 0 : -1;
  hsize_t index = 0;
  bool ok = H5Aiterate2(object, H5_INDEX_NAME, H5_ITER_NATIVE, &index, visit_attribute, &walk) >= 0;
  if (!ok && walk.failure.empty()) failed(walk, path, "list attributes");
  if (ok && info->type == H5O_TYPE_DATASET) ok = check_dataset(walk, object, path);
  H5Oclose(object);
  return ok ? 0 : -1;
}

// The child's whole life: walk, write the failure (if any) to the pipe, exit without running
// the parent's destructors or atexit handlers.
[[noreturn]] void run_child(const std::function<hid_t()>& open_read_only, int out) {
  Walk walk;
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  // A file that does not open cleanly is the parent's to report, in its usual words.
  const hid_t file = open_read_only();
  if (file < 0) ::_exit(0);
  const herr_t visited = H5Ovisit2(file, H5_INDEX_NAME, H5_ITER_NATIVE, visit_object, &walk,
                                   H5O_INFO_BASIC);
  if (visited < 0 && walk.failure.empty()) failed(walk, "/", "walk the objects");
  if (!walk.failure.empty()) {
    const ssize_t ignored = ::write(out, walk.failure.data(), walk.failure.size());
    static_cast<void>(ignored);
  }
  ::_exit(walk.failure.empty() ? 0 : 1);
}

std::string signal_name(int signal) {
  const char* name = ::strsignal(signal);
  return name != nullptr ? name : "signal " + std::to_string(signal);
}

}  // namespace

void check_structure_in_child(const std::function<hid_t()>& open_read_only,
                              const std::string& label, double timeout_s) {
  int fds[2];
  if (::pipe(fds) != 0) {
    throw IoError(label + ": cannot check the file's structure: pipe: " + std::strerror(errno));
  }
  const pid_t child = ::fork();
  if (child < 0) {
    const int error = errno;
    ::close(fds[0]);
    ::close(fds[1]);
    throw IoError(label + ": cannot check the file's structure: fork: " + std::strerror(error));
  }
  if (child == 0) {
    ::close(fds[0]);
    run_child(open_read_only, fds[1]);
  }
  ::close(fds[1]);

  // Read the report until the child closes the pipe or the time is up.
  std::string report;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  bool timed_out = false;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd waiting{fds[0], POLLIN, 0};
    const int ready = ::poll(&waiting, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;
    char buffer[512];
    const ssize_t got = ::read(fds[0], buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    report.append(buffer, static_cast<size_t>(got));
  }
  ::close(fds[0]);
  if (timed_out) ::kill(child, SIGKILL);
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) {
    throw IoError(label + ": corrupted: reading its structure did not finish within " +
                  std::to_string(static_cast<int>(timeout_s)) + " s");
  }
  if (WIFSIGNALED(status)) {
    throw IoError(label + ": corrupted: the HDF5 library crashed reading its structure (" +
                  signal_name(WTERMSIG(status)) + ")");
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw IoError(label + ": corrupted: " + (report.empty() ? "cannot read its structure" : report));
  }
}

}  // namespace headscope
