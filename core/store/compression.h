// How a recording's chunked datasets are stored (`record --compression none|deflate[:level]`).
// Deflated chunks go through HDF5's standard shuffle + deflate filters, so h5py and xarray read
// them without a plugin; `none` stores chunks raw, for runs where writing must keep up with a GPU
// and the disk has room (a 128K-token layer of statistics is ~0.8 GB raw, ~0.4 GB deflated).
#pragma once

#include <string>

namespace headscope {

struct Compression {
  enum class Kind { kNone, kDeflate };
  Kind kind = Kind::kDeflate;
  // deflate's level, 1 (fastest) .. 9 (smallest); the HDF5 filter's parameter. 1 by default:
  // files 2-3% larger than at 4 for 17-23% less compression time (a 32-layer recording's
  // statistics on an H100; docs/PERFORMANCE.md), which matters where cores are few.
  int level = 1;

  static Compression none() { return {Kind::kNone, 0}; }
  static Compression deflate(int level) { return {Kind::kDeflate, level}; }
  bool operator==(const Compression& other) const {
    return kind == other.kind && (kind == Kind::kNone || level == other.level);
  }
};

// "none", "deflate" (level 1) or "deflate:N" with N in 1..9; InvalidInput naming `option` and
// the accepted forms otherwise.
Compression parse_compression(const std::string& text, const std::string& option);
// The form parse_compression reads ("none", "deflate:1").
std::string compression_name(const Compression& compression);

}  // namespace headscope
