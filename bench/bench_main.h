// The command line every benchmark shares: CLI11 with the CLI's validators and its --device and
// --dtype parsing (cli/cli_args.h), so a benchmark takes the same words as `headscope`; errors
// go to stderr as "<bench>: <message>" with exit status 1, --help exits 0.
#pragma once

#include <exception>
#include <iostream>

#include <CLI/CLI.hpp>

namespace headscope::bench {

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
