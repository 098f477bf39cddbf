#include "core/store/hdf5_attribute.h"

#include <cstring>

#include "core/base/error.h"

namespace headscope {
namespace {

H5Where attribute_where(const H5Where& where, const std::string& name) {
  return {where.file, where.object + " attribute '" + name + "'"};
}

H5Id create_scalar_attribute(hid_t object, const std::string& name, hid_t type,
                             const H5Where& where) {
  if (h5_check(H5Aexists(object, name.c_str()), where, "look up attribute") > 0) {
    h5_check(H5Adelete(object, name.c_str()), where, "replace attribute");
  }
  H5Id space = h5_own(H5Screate(H5S_SCALAR), H5Kind::kDataspace, where, "create dataspace");
  return h5_own(H5Acreate2(object, name.c_str(), type, space.get(), H5P_DEFAULT, H5P_DEFAULT),
                H5Kind::kAttribute, where, "create attribute");
}

// Opens a one-element attribute of the given type class; std::nullopt when it is absent.
std::optional<H5Id> open_scalar_attribute(hid_t object, const std::string& name,
                                          H5T_class_t type_class, const char* class_name,
                                          const H5Where& where) {
  if (h5_check(H5Aexists(object, name.c_str()), where, "look up attribute") == 0) {
    return std::nullopt;
  }
  H5Id attribute = h5_own(H5Aopen(object, name.c_str(), H5P_DEFAULT), H5Kind::kAttribute, where,
                          "open attribute");
  H5Id type = h5_own(H5Aget_type(attribute.get()), H5Kind::kDatatype, where, "read type");
  H5Id space = h5_own(H5Aget_space(attribute.get()), H5Kind::kDataspace, where, "read shape");
  if (H5Tget_class(type.get()) != type_class || H5Sget_simple_extent_npoints(space.get()) != 1) {
    throw InvalidInput(where.str() + ": expected a single " + class_name);
  }
  return attribute;
}

}  // namespace

H5Id h5_utf8_string_type(const H5Where& where) {
  H5Id type = h5_own(H5Tcopy(H5T_C_S1), H5Kind::kDatatype, where, "create string type");
  h5_check(H5Tset_size(type.get(), H5T_VARIABLE), where, "create string type");
  h5_check(H5Tset_cset(type.get(), H5T_CSET_UTF8), where, "create string type");
  return type;
}

void h5_free_strings(hid_t type, hid_t space, void* buf) {
#if H5_VERSION_GE(1, 12, 0)
  H5Treclaim(type, space, H5P_DEFAULT, buf);
#else
  H5Dvlen_reclaim(type, space, H5P_DEFAULT, buf);
#endif
}

void h5_write_string_attribute(hid_t object, const std::string& name, const std::string& value,
                               const H5Where& where) {
  const H5Where at = attribute_where(where, name);
  H5Id type = h5_utf8_string_type(at);
  H5Id attribute = create_scalar_attribute(object, name, type.get(), at);
  const char* text = value.c_str();
  h5_check(H5Awrite(attribute.get(), type.get(), &text), at, "write attribute");
}

void h5_write_int_attribute(hid_t object, const std::string& name, int64_t value,
                            const H5Where& where) {
  const H5Where at = attribute_where(where, name);
  H5Id attribute = create_scalar_attribute(object, name, H5T_STD_I64LE, at);
  h5_check(H5Awrite(attribute.get(), H5T_NATIVE_INT64, &value), at, "write attribute");
}

void h5_write_double_attribute(hid_t object, const std::string& name, double value,
                               const H5Where& where) {
  const H5Where at = attribute_where(where, name);
  H5Id attribute = create_scalar_attribute(object, name, H5T_IEEE_F64LE, at);
  h5_check(H5Awrite(attribute.get(), H5T_NATIVE_DOUBLE, &value), at, "write attribute");
}

std::optional<std::string> h5_read_string_attribute(hid_t object, const std::string& name,
                                                    const H5Where& where) {
  const H5Where at = attribute_where(where, name);
  std::optional<H5Id> attribute = open_scalar_attribute(object, name, H5T_STRING, "string", at);
  if (!attribute) return std::nullopt;
  H5Id file_type = h5_own(H5Aget_type(attribute->get()), H5Kind::kDatatype, at, "read type");
  // The native type keeps the stored character set, so HDF5 has nothing to convert.
  H5Id type = h5_own(H5Tget_native_type(file_type.get(), H5T_DIR_DEFAULT), H5Kind::kDatatype, at,
                     "read type");
  if (h5_check(H5Tis_variable_str(type.get()), at, "read type") > 0) {
    H5Id space = h5_own(H5Aget_space(attribute->get()), H5Kind::kDataspace, at, "read shape");
    char* text = nullptr;
    h5_check(H5Aread(attribute->get(), type.get(), &text), at, "read attribute");
    std::string value = text != nullptr ? text : "";
    h5_free_strings(type.get(), space.get(), &text);
    return value;
  }
  // Fixed-length strings (numpy bytes set from h5py) are NUL-padded to their size.
  std::string value(H5Tget_size(type.get()), '\0');
  h5_check(H5Aread(attribute->get(), type.get(), value.data()), at, "read attribute");
  value.resize(std::strlen(value.c_str()));
  return value;
}

namespace {

// A scalar numeric attribute of class `type_class` ("what" in errors), read as `native`.
template <class T>
std::optional<T> read_number_attribute(hid_t object, const std::string& name,
                                       const H5Where& where, H5T_class_t type_class,
                                       const char* what, hid_t native) {
  const H5Where at = attribute_where(where, name);
  std::optional<H5Id> attribute = open_scalar_attribute(object, name, type_class, what, at);
  if (!attribute) return std::nullopt;
  T value{};
  h5_check(H5Aread(attribute->get(), native, &value), at, "read attribute");
  return value;
}

}  // namespace

std::optional<int64_t> h5_read_int_attribute(hid_t object, const std::string& name,
                                             const H5Where& where) {
  return read_number_attribute<int64_t>(object, name, where, H5T_INTEGER, "integer",
                                        H5T_NATIVE_INT64);
}

std::optional<double> h5_read_double_attribute(hid_t object, const std::string& name,
                                               const H5Where& where) {
  return read_number_attribute<double>(object, name, where, H5T_FLOAT, "float",
                                       H5T_NATIVE_DOUBLE);
}

std::vector<std::string> h5_read_string_dataset(hid_t dataset, const H5Where& where) {
  H5Id file_type = h5_own(H5Dget_type(dataset), H5Kind::kDatatype, where, "read type");
  if (H5Tget_class(file_type.get()) != H5T_STRING ||
      h5_check(H5Tis_variable_str(file_type.get()), where, "read type") == 0) {
    throw InvalidInput(where.str() + ": expected variable-length strings");
  }
  const std::vector<hsize_t> dims = h5_dataset_dims(dataset, where);
  if (dims.size() != 1) throw InvalidInput(where.str() + ": expected one dimension");
  std::vector<std::string> text;
  if (dims[0] == 0) return text;
  H5Id type = h5_utf8_string_type(where);
  H5Id space = h5_own(H5Dget_space(dataset), H5Kind::kDataspace, where, "read shape");
  std::vector<char*> pointers(dims[0], nullptr);
  h5_check(H5Dread(dataset, type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, pointers.data()), where,
           "read dataset");
  text.reserve(pointers.size());
  for (const char* item : pointers) text.emplace_back(item != nullptr ? item : "");
  h5_free_strings(type.get(), space.get(), pointers.data());
  return text;
}

}  // namespace headscope

namespace headscope {

std::optional<std::vector<std::string>> h5_read_strings_attribute(hid_t object,
                                                                  const std::string& name,
                                                                  size_t count,
                                                                  const H5Where& where) {
  const H5Where at = attribute_where(where, name);
  if (h5_check(H5Aexists(object, name.c_str()), at, "look up attribute") == 0) return std::nullopt;
  H5Id attribute =
      h5_own(H5Aopen(object, name.c_str(), H5P_DEFAULT), H5Kind::kAttribute, at, "open attribute");
  H5Id file_type = h5_own(H5Aget_type(attribute.get()), H5Kind::kDatatype, at, "read type");
  H5Id space = h5_own(H5Aget_space(attribute.get()), H5Kind::kDataspace, at, "read shape");
  if (H5Tget_class(file_type.get()) != H5T_STRING ||
      h5_check(H5Tis_variable_str(file_type.get()), at, "read type") == 0 ||
      H5Sget_simple_extent_ndims(space.get()) != 1 ||
      H5Sget_simple_extent_npoints(space.get()) != static_cast<hssize_t>(count)) {
    throw InvalidInput(at.str() + ": expected " + std::to_string(count) +
                       " variable-length strings");
  }
  H5Id type = h5_utf8_string_type(at);
  std::vector<char*> pointers(count, nullptr);
  h5_check(H5Aread(attribute.get(), type.get(), pointers.data()), at, "read attribute");
  std::vector<std::string> values;
  for (const char* text : pointers) values.emplace_back(text != nullptr ? text : "");
  h5_free_strings(type.get(), space.get(), pointers.data());
  return values;
}

}  // namespace headscope
