#include "core/base/path_exists.h"

#include <sys/stat.h>

namespace headscope {

bool path_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

}  // namespace headscope
