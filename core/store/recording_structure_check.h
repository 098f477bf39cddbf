// HDF5 1.10 (Debian 12's) trusts the metadata it parses: a few flipped bytes in an object
// header, an attribute, a global heap or a chunk index can make it free memory twice, read out
// of bounds, allocate terabytes or loop forever, inside the library, before any check of ours
// sees a value. So before a recording is opened, a child process opens it and walks every
// object, attribute (values included) and chunk index; a crash or hang there becomes an IoError
// naming the file, and the reader only touches metadata that HDF5 has parsed once without harm.
#pragma once

#include <hdf5.h>

#include <functional>
#include <string>

namespace headscope {

// How long the child may take; a recording's metadata is walked in well under a second.
inline constexpr double kStructureCheckTimeoutS = 60.0;

// Runs open_read_only (which opens the file, superblock and root group being the first things
// HDF5 parses) and the walk in a child. IoError "LABEL: corrupted: ..." when either crashes,
// runs past timeout_s or fails; HDF5's message names the object when one was at fault. A file
// that does not open returns quietly: the caller's own open reports it.
void check_structure_in_child(const std::function<hid_t()>& open_read_only,
                              const std::string& label, double timeout_s = kStructureCheckTimeoutS);

}  // namespace headscope
