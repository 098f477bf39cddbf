#include "gui/models/hdf5_lock.h"

namespace headscope::gui {

std::unique_lock<std::recursive_mutex> hdf5_lock() {
  // Recursive: a read helper may call another that locks too.
  static std::recursive_mutex mutex;
  return std::unique_lock<std::recursive_mutex>(mutex);
}

}  // namespace headscope::gui
