// The command line both GPU benchmarks share: lengths T..., --heads, --dim, --reps (bf16,
// causal, B = 1), and the refusal to run without a CUDA device.
#pragma once

#include <cstdint>
#include <vector>

#include <torch/cuda.h>
#include <CLI/CLI.hpp>

#include "cli/cli_args.h"
#include "core/base/error.h"

namespace headscope::bench {

struct GpuBenchArgs {
  int64_t heads = 32;
  int64_t dim = 128;
  int reps = 5;
  std::vector<int64_t> lengths;
};

inline void add_gpu_bench_options(CLI::App& app, GpuBenchArgs& args) {
  using cli::integer_in;
  app.add_option("T", args.lengths, "Sequence lengths")
      ->required()
      ->check(integer_in(1, cli::kMaxTokens));
  app.add_option("--heads", args.heads)->check(integer_in(1, 1024))->capture_default_str();
  app.add_option("--dim", args.dim, "Head dimension")
      ->check(integer_in(1, 256))
      ->capture_default_str();
  app.add_option("--reps", args.reps)->check(integer_in(1, 100000))->capture_default_str();
}

inline void require_cuda() {
  if (!torch::cuda::is_available()) throw InvalidInput("this LibTorch sees no CUDA device");
}

}  // namespace headscope::bench
