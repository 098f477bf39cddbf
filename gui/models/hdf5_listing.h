// What the file panel shows of an HDF5 object: its members (groups, datasets) and attributes,
// with types, shapes and dimension names, read one level at a time. The caller holds
// hdf5_lock().
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <hdf5.h>

namespace headscope::gui {

enum class H5EntryKind { kGroup, kDataset, kAttribute, kOther };

struct H5Entry {
  H5Entry() = default;
  H5Entry(H5EntryKind k, std::string n, std::string p, std::string t = "")
      : kind(k), name(std::move(n)), path(std::move(p)), type(std::move(t)) {}

  H5EntryKind kind = H5EntryKind::kOther;
  std::string name;
  std::string path;  // absolute in the file; for an attribute, its object's path
  std::string type;  // "group", "float32", "int64", "string", ...
  std::vector<int64_t> shape;
  std::vector<std::string> dimensions;  // per axis, "" where unnamed (datasets only)
  std::string value;                    // scalar attributes: the value as text
  bool has_children = false;            // members or shown attributes
};

// The members of the group at `path` (sorted by name; staging groups ".partial_*" left out),
// then the attributes of the object at `path` (those HDF5 keeps for dimension scales left
// out). Throws IoError naming the file and object when HDF5 fails.
std::vector<H5Entry> list_h5_children(hid_t file, const std::string& file_name,
                                      const std::string& path);

// "[2, 4, 6]", or with names "[2, 4, 6] (head, query, key)"; "scalar" for no axes.
std::string describe_shape(const std::vector<int64_t>& shape,
                           const std::vector<std::string>& dimensions);

}  // namespace headscope::gui
