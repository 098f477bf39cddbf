// keep_freed_host_memory: a large block comes from the heap, not its own mapping, and freeing
// it leaves the heap its size (the next chunk's buffer reuses those pages instead of faulting
// in new ones).
#include <gtest/gtest.h>

#include <cstdlib>

#include "core/base/host_memory.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace headscope {
namespace {

TEST(HostMemory, LargeBlocksComeFromTheHeapAndStayThereAfterFree) {
#if !defined(__GLIBC__)
  GTEST_SKIP() << "glibc's allocator only";
#else
  keep_freed_host_memory();
  constexpr size_t kBlock = size_t{64} << 20;  // over glibc's largest mmap threshold (32 MiB)
  const struct mallinfo2 before = mallinfo2();
  void* block = std::malloc(kBlock);
  ASSERT_NE(block, nullptr);
  const struct mallinfo2 during = mallinfo2();
  EXPECT_EQ(during.hblkhd, before.hblkhd) << "the block was mmap'ed";
  std::free(block);
  EXPECT_EQ(mallinfo2().arena, during.arena) << "the heap was trimmed";
#endif
}

}  // namespace
}  // namespace headscope
