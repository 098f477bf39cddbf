#include "tests/support/test_runner.h"

#include <string>

#include <gtest/gtest.h>
#include <torch/cuda.h>

namespace headscope::test {
namespace {

bool needs_cuda(const ::testing::TestInfo& test) {
  std::string name = test.name();
  name = name.substr(0, name.find('/'));  // a parameterised test's "/N" suffix
  const std::string suffix = "_CUDA";
  return name.size() >= suffix.size() &&
         name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// A skip recorded when the test starts, before its fixture is built: gtest then runs neither
// SetUp nor the body, and reports the test as skipped with this message.
class SkipCudaTests : public ::testing::EmptyTestEventListener {
  void OnTestStart(const ::testing::TestInfo& test) override {
    if (needs_cuda(test)) GTEST_SKIP() << "needs a CUDA device; LibTorch sees none";
  }
};

}  // namespace

int run_all_tests(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (!torch::cuda::is_available()) {
    ::testing::UnitTest::GetInstance()->listeners().Append(new SkipCudaTests);
  }
  return RUN_ALL_TESTS();
}

}  // namespace headscope::test
