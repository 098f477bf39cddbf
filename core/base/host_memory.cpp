#include "core/base/host_memory.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace headscope {

void keep_freed_host_memory() {
#if defined(__GLIBC__)
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, -1);  // -1: never trim (mallopt(3))
#endif
}

}  // namespace headscope
