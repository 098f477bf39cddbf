// Ownership of HDF5 identifiers and the conversion of HDF5 failures into headscope errors.
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace headscope {

// What an identifier refers to; each kind has its own close function in the C API.
// kObject is a group or dataset opened with H5Oopen.
enum class H5Kind {
  kFile,
  kGroup,
  kDataset,
  kDataspace,
  kDatatype,
  kPropList,
  kAttribute,
  kObject
};

// Move-only owner of one hid_t; closes it with the function of its kind.
class H5Id {
 public:
  H5Id() = default;
  H5Id(hid_t id, H5Kind kind) : id_(id), kind_(kind) {}
  H5Id(const H5Id&) = delete;
  H5Id& operator=(const H5Id&) = delete;
  H5Id(H5Id&& other) noexcept;
  H5Id& operator=(H5Id&& other) noexcept;
  ~H5Id() { reset(); }

  hid_t get() const { return id_; }
  explicit operator bool() const { return id_ >= 0; }

  // Closes now. Close errors are dropped: nothing useful can be done with them in a destructor,
  // and writers flush explicitly where durability matters.
  void reset();

 private:
  hid_t id_ = H5I_INVALID_HID;
  H5Kind kind_ = H5Kind::kFile;
};

// The file and the object inside it (empty for the file itself) that an HDF5 call works on;
// error messages name both.
struct H5Where {
  std::string file;
  std::string object;

  std::string str() const { return object.empty() ? file : file + ": " + object; }
};

// Debian's HDF5 is built without thread safety: no two HDF5 calls may run at once. A thread
// besides the one that owns the file (ChunkWriteQueue's writer) holds this lock for its calls,
// and so do the methods of RecordingWriter, RunWriter and GroupWriter, ChunkWriteQueue where it
// closes handles, and the explorer's readers (gui::hdf5_lock()). Recursive: those methods call
// one another.
std::recursive_mutex& hdf5_lock();

// Turns off HDF5's automatic printing of its error stack, so users see our messages instead.
// Call before the first HDF5 call of an entry point; cheap after the first time on a thread.
void h5_init();

// Throws IoError "FILE: OBJECT: cannot ACTION (most specific HDF5 message)" and clears the stack.
[[noreturn]] void h5_fail(const H5Where& where, const std::string& action);

// Returns status (herr_t, htri_t or hid_t), or calls h5_fail when it is negative.
int64_t h5_check(int64_t status, const H5Where& where, const std::string& action);

// Takes ownership of id, or calls h5_fail when the call that produced it failed.
H5Id h5_own(hid_t id, H5Kind kind, const H5Where& where, const std::string& action);

// Whether the '/'-separated path, relative to group, names an object. Looks up each parent in
// turn: H5Lexists fails, rather than answering no, when a parent is missing.
bool h5_path_exists(hid_t group, const std::string& path, const H5Where& where);

// The extent of a dataset; empty for a scalar.
std::vector<hsize_t> h5_dataset_dims(hid_t dataset, const H5Where& where);

}  // namespace headscope
