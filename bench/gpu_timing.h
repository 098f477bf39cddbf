// Timing for the GPU benchmarks (bench/*_bench.cpp built where LibTorch has CUDA): the median of
// `reps` synchronised runs after a warm-up, with an out-of-memory or CUDA error kept as text
// instead of ending the run, so one JSON line per case still comes out.
#pragma once

#include <c10/cuda/CUDACachingAllocator.h>
#include <torch/cuda.h>

#include <chrono>
#include <exception>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "bench/median.h"

namespace headscope::bench {

struct Timing {
  double ms = -1;     // median; -1: not run or failed
  std::string error;  // first 80 characters, safe inside a JSON string
};

// Each case starts and ends with an empty caching allocator, so one case's memory never
// decides whether the next runs out.
inline Timing time_gpu(const std::function<void()>& fn, int reps) {
  Timing t;
  c10::cuda::CUDACachingAllocator::emptyCache();
  try {
    fn();  // warm-up
    torch::cuda::synchronize();
    std::vector<double> ms;
    for (int r = 0; r < reps; ++r) {
      const auto start = std::chrono::steady_clock::now();
      fn();
      torch::cuda::synchronize();
      ms.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
              .count());
    }
    t.ms = median(std::move(ms));
  } catch (const std::exception& e) {  // out of memory, or a CUDA error
    t.error = std::string(e.what()).substr(0, 80);
    for (char& ch : t.error) ch = (ch == '"' || ch == '\\' || ch == '\n') ? ' ' : ch;
  }
  c10::cuda::CUDACachingAllocator::emptyCache();
  return t;
}

}  // namespace headscope::bench
