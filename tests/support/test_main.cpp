// gtest main shared by every suite: *_CUDA tests are filtered out when no GPU is present,
// so CI (CPU only) runs everything else.
#include <gtest/gtest.h>
#include <torch/cuda.h>

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (!torch::cuda::is_available()) {
    std::string filter = ::testing::GTEST_FLAG(filter);
    // Parameterised tests carry a "/N" suffix after the name.
    const char* cuda = "*_CUDA:*_CUDA/*";
    filter += (filter.find('-') == std::string::npos ? "-" : ":") + std::string(cuda);
    ::testing::GTEST_FLAG(filter) = filter;
  }
  return RUN_ALL_TESTS();
}
