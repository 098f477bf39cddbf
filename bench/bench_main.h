// The command line every benchmark shares: CLI11 with the CLI's validators and its --device and
// --dtype parsing (cli/cli_args.h), so a benchmark takes the same words as `headscope`; errors
// go to stderr as "<bench>: <message>" with exit status 1, --help exits 0.
#pragma once

#include <cstdint>
#include <exception>
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/cli_args.h"

namespace headscope::bench {

// The options the CPU-or-GPU benchmarks share, with one wording.
inline void add_device_option(CLI::App& app, std::string& device) {
  app.add_option("--device", device, "cpu, cuda or cuda:N")->capture_default_str();
}

// Timed repetitions and, where the benchmark has them, untimed warm-up runs before them.
inline void add_repeat_options(CLI::App& app, int64_t& repeats, int64_t* warmup = nullptr) {
  app.add_option("--repeats", repeats, "Timed runs")
      ->check(cli::integer_in(1, 100000))
      ->capture_default_str();
  if (warmup != nullptr) {
    app.add_option("--warmup", *warmup, "Untimed runs before the timed ones")
        ->check(cli::integer_in(0, 100000))
        ->capture_default_str();
  }
}

template <class Run>
int bench_main(CLI::App& app, int argc, char** argv, const Run& run) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    return run();
  } catch (const std::exception& e) {  // headscope::Error, or c10::Error from LibTorch
    std::cerr << app.get_name() << ": " << e.what() << "\n";
  }
  return 1;
}

}  // namespace headscope::bench
