// Which GPUs a build of the CUDA kernels runs on, from the architecture list it was compiled for
// (kernels/cuda_architectures.h): the rule the *_cuda_supports() checks apply at dispatch, here
// on (major, minor) pairs, so it is tested without a GPU.
#include <gtest/gtest.h>

#include "kernels/cuda_architectures.h"

namespace headscope {
namespace {

bool runs(const char* architectures, int major, int minor) {
  return cuda_architectures_run_on(architectures, major, minor);
}

TEST(CudaArchitectures, HopperOnlyBuildRunsOnHopperAlone) {
  // sm_90a machine code and compute_90a PTX: neither runs anywhere but 9.0. An A100 with this
  // build takes the reference path instead of failing at launch.
  EXPECT_TRUE(runs("90a", 9, 0));
  EXPECT_FALSE(runs("90a", 8, 0));
  EXPECT_FALSE(runs("90a", 8, 9));
  EXPECT_FALSE(runs("90a", 10, 0));
  EXPECT_FALSE(runs("90a", 12, 0));
}

TEST(CudaArchitectures, DefaultBuildRunsOnAmpereAndLater) {
  for (const char* list : {"80;90a", "80 90a"}) {
    SCOPED_TRACE(list);
    EXPECT_TRUE(runs(list, 8, 0));   // A100: sm_80 machine code
    EXPECT_TRUE(runs(list, 8, 6));   // RTX 30xx, A10: sm_80 code runs on 8.x
    EXPECT_TRUE(runs(list, 8, 9));   // L4, L40
    EXPECT_TRUE(runs(list, 9, 0));   // H100, H200: sm_90a
    EXPECT_TRUE(runs(list, 10, 0));  // B200: the driver compiles compute_80 PTX
    EXPECT_TRUE(runs(list, 12, 0));
    EXPECT_FALSE(runs(list, 7, 5));  // T4: older than every entry
    EXPECT_FALSE(runs(list, 7, 0));
  }
}

TEST(CudaArchitectures, MachineCodeRunsWithinItsMajorVersion) {
  EXPECT_TRUE(runs("80-real", 8, 0));
  EXPECT_TRUE(runs("80-real", 8, 9));
  EXPECT_FALSE(runs("80-real", 9, 0));  // no PTX to compile for a later major version
  EXPECT_FALSE(runs("86-real", 8, 0));  // nor for an earlier minor one
  EXPECT_TRUE(runs("90-real", 9, 0));
  EXPECT_FALSE(runs("90a-real;80-real", 10, 0));
  EXPECT_TRUE(runs("90a-real;80-real", 8, 6));
}

TEST(CudaArchitectures, PtxRunsOnEveryLaterDevice) {
  EXPECT_TRUE(runs("80-virtual", 8, 0));
  EXPECT_TRUE(runs("80-virtual", 9, 0));
  EXPECT_TRUE(runs("80-virtual", 12, 1));
  EXPECT_FALSE(runs("86-virtual", 8, 0));
  EXPECT_FALSE(runs("90-virtual", 8, 9));
  EXPECT_TRUE(runs("90", 10, 0));
  EXPECT_FALSE(runs("90a-virtual", 10, 0));  // arch-specific PTX is for 9.0 alone
  EXPECT_TRUE(runs("90a-virtual", 9, 0));
}

TEST(CudaArchitectures, FamilyTargetsRunWithinTheirFamily) {
  EXPECT_TRUE(runs("100f", 10, 0));
  EXPECT_TRUE(runs("100f", 10, 3));
  EXPECT_FALSE(runs("100f", 12, 0));
  EXPECT_FALSE(runs("100f", 9, 0));
  EXPECT_FALSE(runs("103f-virtual", 10, 0));
}

TEST(CudaArchitectures, ThreeDigitCapabilities) {
  EXPECT_TRUE(runs("120", 12, 0));
  EXPECT_TRUE(runs("120-real", 12, 1));
  EXPECT_FALSE(runs("121-real", 12, 0));
  EXPECT_FALSE(runs("100-real", 12, 0));
  EXPECT_TRUE(runs("100", 12, 0));
}

TEST(CudaArchitectures, NoEntryOrUnknownEntriesRunNowhere) {
  EXPECT_FALSE(runs("", 9, 0));
  EXPECT_FALSE(runs(";", 9, 0));
  EXPECT_FALSE(runs("native", 9, 0));
  EXPECT_FALSE(runs("all", 9, 0));
  EXPECT_FALSE(runs("sm_90", 9, 0));
  EXPECT_FALSE(runs("90b", 9, 0));
  EXPECT_FALSE(runs("90-fake", 9, 0));
  EXPECT_FALSE(runs("-real", 9, 0));
  EXPECT_FALSE(runs("9", 9, 0));
  // A bad entry does not hide a good one after it.
  EXPECT_TRUE(runs("native;;90a", 9, 0));
}

}  // namespace
}  // namespace headscope
