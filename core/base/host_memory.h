// How the process's C heap treats freed memory. On hosts where a page fault is expensive (a
// virtual machine: ~40 µs per 4 KiB page measured on the 2-core CI host, docs/PERFORMANCE.md
// "The CPU path"), glibc's default of giving every block over 32 MiB back to the kernel on free,
// and of trimming the heap top, makes each chunk of a CPU forward fault its scratch memory in
// again; that, not arithmetic, was most of a CPU `record`'s time.
#pragma once

namespace headscope {

// Keeps freed memory in the process for reuse: no mmap'ed blocks (large ones come from the heap
// too) and no trimming. Peak RSS is unchanged (the peak is what was in use); memory freed after
// the peak stays mapped until exit. For command-line programs, once at start; a no-op without
// glibc. Threads other than the main one still get blocks over 64 MiB (glibc's per-thread heap
// size) mapped; the forward's large buffers are allocated by the calling (main) thread.
void keep_freed_host_memory();

}  // namespace headscope
