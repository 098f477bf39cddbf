# shellcheck shell=bash
# Sourced by the CPU benchmarks: the heap policy headscope sets for itself
# (core/base/host_memory.h: no mmap'ed blocks, no trim), for processes that do not set it (the
# PyTorch peer, bench/forward_bench), so both sides of a comparison run under the same one.
# Without it, each large temporary faults its pages in again: on a VM host the peer is ~5x
# slower, which would measure the host, not the code.
# shellcheck disable=SC2034 # read by the scripts that source this file
cpu_heap_policy=(MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=68719476736)
