// Runs a shell command for tests that drive the `headscope` binary or Debian's python3.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <string>

namespace headscope::test {

struct ShellResult {
  int status;          // exit status; -1 when the command did not exit normally
  std::string output;  // stdout and stderr together
};

inline ShellResult shell(const std::string& command) {
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return {-1, "popen failed"};
  std::string output;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

}  // namespace headscope::test
