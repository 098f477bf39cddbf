// `headscope retrieval` under Debian's torchrun, 2 and 3 CPU processes over Gloo: the file rank
// 0 writes equals, dataset for dataset and attribute for attribute, the one a single process
// writes; the other ranks write nothing.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/cli_run.h"
#include "tests/support/temp_dir_test.h"

namespace headscope {
namespace {

using ::testing::HasSubstr;

bool has(const std::string& program) {
  return std::system(("command -v " + program + " >/dev/null 2>&1").c_str()) == 0;
}

// A TCP port nothing listens on now (the store's, for one launch).
int free_port() {
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

class DistributedCli : public test::TempDirTest {
 protected:
  void SetUp() override {
    test::TempDirTest::SetUp();
    if (!has("torchrun") || !has("/usr/bin/python3")) {
      GTEST_SKIP() << "Debian's python3-torch (torchrun) is not installed (scripts/setup.sh)";
    }
  }

  static std::string model() {
    return std::string(HEADSCOPE_SOURCE_DIR) + "/zoo/models/needle-4x8";
  }

  // 3 lengths x 2 depths x 4 built-in needles: 24 samples of unequal cost.
  static std::string retrieval(const std::string& out) {
    return "retrieval " + model() + " --out " + out +
           " --length 64,96,128 --depth 0.25,0.75 --max-new-tokens 8 --quiet";
  }

  // torchrun of `headscope ARGS` on `ranks` CPU processes. Python 3.11 breaks torchrun 1.13's
  // default --redirects/--tee ("0"), so both name stdout explicitly.
  test::ShellResult torchrun(int ranks, const std::string& args) {
    return test::shell("torchrun --nproc_per_node " + std::to_string(ranks) + " --master_port " +
                       std::to_string(free_port()) + " --redirects 1 --tee 1 --log_dir " +
                       path("torchrun_logs") + " --no_python " + HEADSCOPE_CLI + " " + args);
  }

  test::ShellResult same(const std::string& a, const std::string& b) {
    return test::shell("/usr/bin/python3 " + std::string(HEADSCOPE_SOURCE_DIR) +
                       "/tests/cli/same_analysis.py " + a + " " + b + " /analyses/retrieval_heads");
  }
};

TEST_F(DistributedCli, RetrievalOnTwoAndThreeRanksEqualsOneProcess) {
  const std::string single = path("single.h5");
  auto r = test::run_cli(retrieval(single));
  ASSERT_EQ(r.status, 0) << r.output;
  for (int ranks : {2, 3}) {
    const std::string out = path("ranks" + std::to_string(ranks) + ".h5");
    r = torchrun(ranks, retrieval(out));
    ASSERT_EQ(r.status, 0) << r.output;
    const auto check = same(single, out);
    EXPECT_EQ(check.status, 0) << ranks << " ranks:\n" << check.output;
  }
}

TEST_F(DistributedCli, BadInputFailsOnEveryRankWithOneLine) {
  const auto r = torchrun(2, "retrieval " + model() + " --out " + path("x.h5") + " --length 3");
  EXPECT_NE(r.status, 0);
  EXPECT_THAT(r.output, HasSubstr("headscope: error: --length"));
  EXPECT_FALSE(std::filesystem::exists(path("x.h5")));
}

}  // namespace
}  // namespace headscope
