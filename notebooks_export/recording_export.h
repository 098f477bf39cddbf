// `headscope export`: a directory a notebook user can start from, holding a copy of the
// recording, a README naming what is in it, and an example notebook (explore.ipynb).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace headscope {

struct ExportOptions {
  std::string out_dir;  // created when missing; must be empty unless force
  bool force = false;   // write into a non-empty out_dir, replacing the export's files there

  ExportOptions& with_out_dir(std::string dir) { return out_dir = std::move(dir), *this; }
  ExportOptions& with_force(bool on) { return force = on, *this; }
};

struct ExportResult {
  std::string out_dir;
  std::vector<std::string> files;  // paths written, recording first
  int64_t run_count = 0;
};

// Validates `recording` first (IoError when missing or not HDF5, InvalidInput when it is not a
// recording, was written by a newer format or holds no run), then writes every file under a
// temporary name and renames it into place: a failure leaves no partial export behind.
// InvalidInput when out_dir is a file, or not empty without force.
ExportResult export_recording(const std::string& recording, const ExportOptions& options);

}  // namespace headscope
