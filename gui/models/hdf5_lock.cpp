#include "gui/models/hdf5_lock.h"

#include "core/store/hdf5_handle.h"

namespace headscope::gui {

std::unique_lock<std::recursive_mutex> hdf5_lock() {
  return std::unique_lock<std::recursive_mutex>(headscope::hdf5_lock());
}

}  // namespace headscope::gui
