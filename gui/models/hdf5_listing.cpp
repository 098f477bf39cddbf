#include "gui/models/hdf5_listing.h"

#include <hdf5_hl.h>

#include <algorithm>
#include <cstdio>
#include <set>

#include "core/store/hdf5_attribute.h"
#include "core/store/hdf5_handle.h"
#include "core/store/recording_schema.h"

namespace headscope::gui {
namespace {

std::string type_name(hid_t type) {
  const size_t size = H5Tget_size(type);
  switch (H5Tget_class(type)) {
    case H5T_FLOAT:
      return "float" + std::to_string(8 * size);
    case H5T_INTEGER:
      return std::string(H5Tget_sign(type) == H5T_SGN_NONE ? "uint" : "int") +
             std::to_string(8 * size);
    case H5T_STRING:
      return "string";
    default:
      return "other";
  }
}

std::vector<int64_t> space_shape(hid_t space) {
  const int rank = H5Sget_simple_extent_ndims(space);
  std::vector<hsize_t> dims(static_cast<size_t>(std::max(rank, 0)));
  if (rank > 0) H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  return std::vector<int64_t>(dims.begin(), dims.end());
}

std::string child_path(const std::string& parent, const std::string& name) {
  return parent == "/" ? "/" + name : parent + "/" + name;
}

// HDF5's own bookkeeping of dimension scales and netCDF's: the panel shows dimension names on
// the datasets instead.
bool is_hidden_attribute(const std::string& name) {
  static const std::set<std::string> kHidden = {
      kAttrClass,      kAttrDimensionLabels, "NAME", "REFERENCE_LIST", "DIMENSION_LIST",
      "_Netcdf4Dimid", "_Netcdf4Coordinates"};
  return kHidden.count(name) > 0;
}

std::vector<std::string> member_names(hid_t group, const H5Where& where) {
  std::vector<std::string> names;
  const auto collect = [](hid_t, const char* name, const H5L_info_t*, void* data) -> herr_t {
    static_cast<std::vector<std::string>*>(data)->emplace_back(name);
    return 0;
  };
  h5_check(H5Literate(group, H5_INDEX_NAME, H5_ITER_INC, nullptr, collect, &names), where,
           "list members");
  return names;
}

int visible_attribute_count(hid_t object, const H5Where& where) {
  std::vector<std::string> names;
  const auto collect = [](hid_t, const char* name, const H5A_info_t*, void* data) -> herr_t {
    static_cast<std::vector<std::string>*>(data)->emplace_back(name);
    return 0;
  };
  h5_check(H5Aiterate2(object, H5_INDEX_NAME, H5_ITER_INC, nullptr, collect, &names), where,
           "list attributes");
  return static_cast<int>(std::count_if(
      names.begin(), names.end(), [](const std::string& n) { return !is_hidden_attribute(n); }));
}

std::string number_text(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.6g", v);
  return text;
}

H5Entry dataset_entry(hid_t dataset, const std::string& name, const std::string& path,
                      const H5Where& where) {
  H5Entry entry{H5EntryKind::kDataset, name, path};
  H5Id type = h5_own(H5Dget_type(dataset), H5Kind::kDatatype, where, "read type");
  H5Id space = h5_own(H5Dget_space(dataset), H5Kind::kDataspace, where, "read shape");
  entry.type = type_name(type.get());
  entry.shape = space_shape(space.get());
  for (size_t axis = 0; axis < entry.shape.size(); ++axis) {
    char label[256] = "";
    const ssize_t length = H5DSget_label(dataset, static_cast<unsigned>(axis), label, sizeof label);
    entry.dimensions.push_back(length > 0 ? label : "");
  }
  entry.has_children = visible_attribute_count(dataset, where) > 0;
  return entry;
}

H5Entry attribute_entry(hid_t object, const std::string& name, const std::string& path,
                        const H5Where& where) {
  H5Entry entry{H5EntryKind::kAttribute, name, path};
  H5Id attribute = h5_own(H5Aopen(object, name.c_str(), H5P_DEFAULT), H5Kind::kAttribute, where,
                          "open attribute " + name);
  H5Id type = h5_own(H5Aget_type(attribute.get()), H5Kind::kDatatype, where, "read type");
  H5Id space = h5_own(H5Aget_space(attribute.get()), H5Kind::kDataspace, where, "read shape");
  entry.type = type_name(type.get());
  entry.shape = space_shape(space.get());
  if (!entry.shape.empty()) return entry;
  if (entry.type == "string") {
    entry.value = h5_read_string_attribute(object, name, where).value_or("");
  } else if (H5Tget_class(type.get()) == H5T_INTEGER) {
    entry.value = std::to_string(h5_read_int_attribute(object, name, where).value_or(0));
  } else if (H5Tget_class(type.get()) == H5T_FLOAT) {
    entry.value = number_text(h5_read_double_attribute(object, name, where).value_or(0.0));
  }
  return entry;
}

}  // namespace

std::string describe_shape(const std::vector<int64_t>& shape,
                           const std::vector<std::string>& dimensions) {
  if (shape.empty()) return "scalar";
  std::string text = "[", names;
  bool named = false;
  for (size_t i = 0; i < shape.size(); ++i) {
    text += (i ? ", " : "") + std::to_string(shape[i]);
    const std::string name = i < dimensions.size() ? dimensions[i] : "";
    names += (i ? ", " : "") + (name.empty() ? std::string("-") : name);
    named = named || !name.empty();
  }
  return text + "]" + (named ? " (" + names + ")" : "");
}

std::vector<H5Entry> list_h5_children(hid_t file, const std::string& file_name,
                                      const std::string& path) {
  h5_init();
  const H5Where where{file_name, path};
  H5Id object = h5_own(H5Oopen(file, path.c_str(), H5P_DEFAULT), H5Kind::kObject, where, "open");
  std::vector<H5Entry> entries;
  if (H5Iget_type(object.get()) == H5I_GROUP) {
    for (const std::string& name : member_names(object.get(), where)) {
      if (name.rfind(kPartialRunPrefix, 0) == 0) continue;
      const std::string member = child_path(path, name);
      const H5Where member_where{file_name, member};
      H5Id child =
          h5_own(H5Oopen(file, member.c_str(), H5P_DEFAULT), H5Kind::kObject, member_where, "open");
      switch (H5Iget_type(child.get())) {
        case H5I_GROUP: {
          H5Entry entry{H5EntryKind::kGroup, name, member, "group"};
          H5G_info_t info;
          h5_check(H5Gget_info(child.get(), &info), member_where, "read group");
          entry.has_children =
              info.nlinks > 0 || visible_attribute_count(child.get(), member_where) > 0;
          entries.push_back(std::move(entry));
          break;
        }
        case H5I_DATASET:
          entries.push_back(dataset_entry(child.get(), name, member, member_where));
          break;
        default:
          entries.push_back(H5Entry{H5EntryKind::kOther, name, member, "other"});
      }
    }
  }
  std::vector<std::string> attributes;
  const auto collect = [](hid_t, const char* name, const H5A_info_t*, void* data) -> herr_t {
    static_cast<std::vector<std::string>*>(data)->emplace_back(name);
    return 0;
  };
  h5_check(H5Aiterate2(object.get(), H5_INDEX_NAME, H5_ITER_INC, nullptr, collect, &attributes),
           where, "list attributes");
  for (const std::string& name : attributes) {
    if (!is_hidden_attribute(name)) {
      entries.push_back(attribute_entry(object.get(), name, path, where));
    }
  }
  return entries;
}

}  // namespace headscope::gui
