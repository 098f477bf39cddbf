// A whole numeric dataset of a file (an analysis's [layer, head] scores, per-sample tables) read
// as float64, with its shape, a string dataset, and whether a path exists: what the views of
// analyses read.
// Callers hold hdf5_lock().
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gui/models/open_file.h"

namespace headscope::gui {

struct NumberArray {
  std::vector<int64_t> shape;
  std::vector<double> values;  // row-major; integers widened, as HDF5 converts them
};

// IoError naming the file and dataset when it is missing or not numeric.
NumberArray read_number_array(const OpenFile& file, const std::string& path);

// The same, checked to have `shape`: InvalidInput naming the file, the dataset, the expected
// shape with its `dimensions` ("config, length") and the one found otherwise.
std::vector<double> read_shaped_array(const OpenFile& file, const std::string& path,
                                      const std::vector<int64_t>& shape, const char* dimensions);

// "[2, 3, 4]": shapes in messages.
std::string shape_text(const std::vector<int64_t>& shape);

// A 1-D dataset of strings (circuit labels, config names); IoError or InvalidInput naming the
// file and dataset when it is missing or holds anything else.
std::vector<std::string> read_string_array(const OpenFile& file, const std::string& path);

// Whether an absolute path ("/analyses/circuits") names an object of the file.
bool has_path(const OpenFile& file, const std::string& path);

}  // namespace headscope::gui
