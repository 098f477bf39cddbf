// Runs the `headscope` binary under test: HEADSCOPE_CLI, which the suites that drive it define.
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/shell.h"

#ifndef HEADSCOPE_CLI
#error "tests/support/cli_run.h needs HEADSCOPE_CLI, defined by the suite's target"
#endif

namespace headscope::test {

// `headscope ARGS`, stdout and stderr together.
inline ShellResult run_cli(const std::string& args) {
  return shell(std::string(HEADSCOPE_CLI) + " " + args);
}

// `headscope ARGS --json`, expected to exit 0; its output parsed (a discarded value when it is
// not JSON, which the caller's checks then report).
inline nlohmann::json run_cli_json(const std::string& args) {
  const ShellResult r = run_cli(args + " --json");
  EXPECT_EQ(r.status, 0) << args << "\n" << r.output;
  return nlohmann::json::parse(r.output, nullptr, /*allow_exceptions=*/false);
}

// Bad input: for each (args, expected) case, `headscope COMMAND ARGS SUFFIX` exits 1 with a
// `headscope: error:` line holding `expected`, and `out` is not written.
inline void expect_one_line_errors(const std::string& command,
                                   const std::vector<std::pair<std::string, std::string>>& cases,
                                   const std::string& suffix, const std::string& out) {
  for (const auto& [args, expected] : cases) {
    const ShellResult r = run_cli(command + " " + args + " " + suffix);
    EXPECT_EQ(r.status, 1) << args << "\n" << r.output;
    EXPECT_THAT(r.output, ::testing::HasSubstr(expected)) << args;
    EXPECT_THAT(r.output, ::testing::HasSubstr("headscope: error:")) << args;
    EXPECT_FALSE(std::filesystem::exists(out)) << args;
  }
}

}  // namespace headscope::test
