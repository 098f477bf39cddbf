// Launches a program on several CPU processes with Debian's torchrun (python3-torch), for the
// tests of multi-process runs (docs/DISTRIBUTED.md).
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "tests/support/shell.h"

namespace headscope::test {

inline bool has_program(const std::string& program) {
  return std::system(("command -v " + program + " >/dev/null 2>&1").c_str()) == 0;
}

// A TCP port nothing listens on now (the store's, for one launch).
inline int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof(addr);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &size), 0);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// torchrun of `command` (a shell command line, written to `script`) on `ranks` processes with
// `env` (VAR=VALUE ...) set. The command goes through a script: torchrun 1.13's parser takes
// any option that abbreviates one of its own (ablate's --n) even after the program. Python 3.11
// breaks its default --redirects/--tee ("0"), so both name stdout explicitly, with the logs in
// `log_dir`. A launch that hangs is stopped after 5 minutes (status 124).
inline ShellResult torchrun(int ranks, const std::string& command, const std::string& script,
                            const std::string& log_dir, const std::string& env = "") {
  std::ofstream(script) << "#!/bin/sh\nexec " << command << "\n";
  std::filesystem::permissions(script, std::filesystem::perms::owner_all);
  return shell(env + " timeout 300 torchrun --nproc_per_node " + std::to_string(ranks) +
               " --master_port " + std::to_string(free_port()) + " --redirects 1 --tee 1" +
               " --log_dir " + log_dir + " --no_python " + script);
}

}  // namespace headscope::test
