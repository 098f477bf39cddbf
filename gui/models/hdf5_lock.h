// Debian's libhdf5 is built without HDF5's thread-safety option: two threads must never be in
// the library at once. Every HDF5 call the explorer makes (the file panel expanding a group on
// the GUI thread, the views' reads on worker threads) holds the process's one HDF5 lock
// (core/store/hdf5_handle.h, which the recording writers take too); reads are bounded (one
// head's map, one layer's statistics), so the GUI thread never waits long for it.
#pragma once

#include <mutex>

namespace headscope::gui {

// Holds headscope::hdf5_lock() until the returned lock goes.
[[nodiscard]] std::unique_lock<std::recursive_mutex> hdf5_lock();

}  // namespace headscope::gui
