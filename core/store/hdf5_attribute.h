// Scalar attributes (UTF-8 strings, integers, doubles) and the variable-length UTF-8 string type
// they share with string datasets. Strings are variable-length so that h5py returns them as str.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/store/hdf5_handle.h"

namespace headscope {

// Variable-length, NUL-terminated, UTF-8 string type.
H5Id h5_utf8_string_type(const H5Where& where);

// Frees the strings HDF5 allocated while reading variable-length data into buf.
void h5_free_strings(hid_t type, hid_t space, void* buf);

// Replaces any attribute of that name. Integers are stored as int64, doubles as float64.
void h5_write_string_attribute(hid_t object, const std::string& name, const std::string& value,
                               const H5Where& where);
void h5_write_int_attribute(hid_t object, const std::string& name, int64_t value,
                            const H5Where& where);
void h5_write_double_attribute(hid_t object, const std::string& name, double value,
                               const H5Where& where);

// std::nullopt when the attribute is absent; InvalidInput when it has another type class.
std::optional<std::string> h5_read_string_attribute(hid_t object, const std::string& name,
                                                    const H5Where& where);
std::optional<int64_t> h5_read_int_attribute(hid_t object, const std::string& name,
                                             const H5Where& where);
std::optional<double> h5_read_double_attribute(hid_t object, const std::string& name,
                                               const H5Where& where);
// A one-dimensional attribute of `count` variable-length strings (DIMENSION_LABELS); nullopt
// when absent, InvalidInput when it has another type or length.
std::optional<std::vector<std::string>> h5_read_strings_attribute(hid_t object,
                                                                  const std::string& name,
                                                                  size_t count,
                                                                  const H5Where& where);

// A one-dimensional dataset of variable-length strings; InvalidInput naming `where` when it
// holds anything else.
std::vector<std::string> h5_read_string_dataset(hid_t dataset, const H5Where& where);

}  // namespace headscope
