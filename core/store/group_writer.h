// What the two writers of a recording share: RunWriter (core/store/recording_writer.h, one run)
// and AnalysisWriter (core/store/analysis_writer.h, one analysis) each write one group, built
// under a partial name and published whole (PartialGroup), with attributes, string datasets and
// dimension scales stored the same way, and the same checks on names, text, shapes and dtypes.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "core/base/dtype.h"
#include "core/store/compression.h"
#include "core/store/hdf5_handle.h"
#include "core/store/partial_group.h"
#include "core/store/staged_file.h"

namespace headscope {

class GroupWriter {
 public:
  GroupWriter(GroupWriter&&) noexcept = default;
  GroupWriter& operator=(GroupWriter&&) = delete;

  // An attribute of the group (object "") or of a dataset or group in it (a path relative to
  // the group, e.g. "attention_stats"); replaces one of the same name. Integers are stored as
  // int64, doubles as float64, strings as UTF-8 (InvalidInput unless UTF-8 without NUL bytes),
  // lists as 1-D attributes (numpy arrays in h5py). InvalidInput when the object does not exist.
  void set_attribute(const std::string& object, const std::string& name, int64_t value);
  void set_attribute(const std::string& object, const std::string& name, double value);
  void set_attribute(const std::string& object, const std::string& name, const std::string& value);
  void set_attribute(const std::string& object, const std::string& name,
                     const std::vector<double>& values);
  void set_attribute(const std::string& object, const std::string& name,
                     const std::vector<int64_t>& values);
  // Other integer types (int literals, size_t) would be ambiguous between int64_t and double.
  template <typename Int, std::enable_if_t<std::is_integral_v<Int>, int> = 0>
  void set_attribute(const std::string& object, const std::string& name, Int value) {
    set_attribute(object, name, static_cast<int64_t>(value));
  }
  void set_attribute(const std::string& object, const std::string& name, const char* value) {
    set_attribute(object, name, std::string(value));
  }

  // How the datasets made from now on are stored (deflate level 1 unless set).
  void set_compression(const Compression& compression) { compression_ = compression; }

 protected:
  // `path` is the file users asked for (messages name it); `staged` the temporary the group is
  // written into when the file is new or replaced, else null.
  GroupWriter(std::string path, PartialGroup group, std::shared_ptr<StagedFile> staged);
  ~GroupWriter() = default;

  // Messages name the path the group has once committed, and the object in it.
  H5Where where(const std::string& object) const;
  // The open group; HS_ASSERT after commit.
  hid_t group() const { return group_.get(); }
  // The dataset or group at a path relative to the group ("" is the group); InvalidInput if
  // absent.
  H5Id open_object(const std::string& object) const;
  // A 1-D dataset of UTF-8 strings; InvalidInput "WHERE: ELEMENT I must be UTF-8 ..." for the
  // first value that is not UTF-8 or holds a NUL (ELEMENT: "token", "element").
  H5Id write_string_dataset(const std::string& name, const std::vector<std::string>& values,
                            const std::string& element, const H5Where& where);
  // A 1-D int64 dataset named `dimension`, made the dimension scale of that name.
  H5Id write_int64_scale(const std::string& dimension, const std::vector<int64_t>& values,
                         const H5Where& where);

  std::string path_;
  std::shared_ptr<StagedFile> staged_;  // declared before group_: the group goes first
  PartialGroup group_;
  Compression compression_;

 private:
  void write_list_attribute(const std::string& object, const std::string& name, hid_t file_type,
                            hid_t memory_type, size_t count, const void* data);
};

// Checks and storage shared by the writers.

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
// The chunk shape of item 6 of recording_schema.h for a dataset of these (non-zero) extents:
// 1 on leading dimensions and up to kChunkEdge on the last two, so one head's [T, T] map is a
// run of whole chunks; up to kChunkLength1d for rank 1.
std::vector<hsize_t> recording_chunk_shape(const std::vector<hsize_t>& dims);
// A dataset stored as item 6 of recording_schema.h (chunked, with shuffle + deflate unless
// `compression` is none, unless empty or scalar); '/' in name makes the groups on the way.
H5Id create_recording_dataset(hid_t group, const std::string& name, hid_t type,
                              const std::vector<hsize_t>& dims, const H5Where& where,
                              const Compression& compression = {});
// Makes `dataset` the dimension scale named `dimension` (item 10 of recording_schema.h).
void make_dimension_scale(hid_t dataset, const std::string& dimension, const H5Where& where);
// Attaches `scale` to an axis of `dataset` and labels the axis with the dimension's name, so
// xarray names the axis and h5py shows the label.
void attach_dimension_scale(hid_t dataset, hid_t scale, unsigned axis, const std::string& dimension,
                            const H5Where& where);

}  // namespace headscope
