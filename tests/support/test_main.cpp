// gtest main shared by every suite: *_CUDA tests are filtered out when no GPU is present,
// so CI (CPU only) runs everything else.
#include <gtest/gtest.h>
#include <torch/cuda.h>

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (!torch::cuda::is_available()) {
    std::string filter = ::testing::GTEST_FLAG(filter);
    filter += (filter.find('-') == std::string::npos) ? "-*_CUDA:*.*_CUDA" : ":*_CUDA:*.*_CUDA";
    ::testing::GTEST_FLAG(filter) = filter;
  }
  return RUN_ALL_TESTS();
}
