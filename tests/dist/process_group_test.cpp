// DistGroup's collectives through c10d in one process (a group of one, DistOptions::
// group_of_one): Gloo on the host everywhere, and NCCL on a GPU where LibTorch has it.
#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "dist/launch_env.h"
#include "dist/process_group.h"
#include "tests/support/torchrun.h"

namespace headscope {
namespace {

DistGroup join_alone() {
  LaunchEnv env;
  env.launcher = "test";
  env.master_port = test::free_port();
  DistOptions options;
  options.group_of_one = true;
  options.timeout = std::chrono::seconds(60);
  return DistGroup::join(env, options);
}

// The Gloo paths of every collective, world size 1: each returns this rank's own values.
TEST(DistGroupOfOne, GlooCollectivesReturnTheOnlyRanksValues) {
  if (!distributed_available()) GTEST_SKIP() << "this build has no Gloo (libgloo-dev)";
  DistGroup group = join_alone();
  EXPECT_EQ(group.all_gather_bytes("abc"), std::vector<std::string>{"abc"});
  EXPECT_EQ(group.gather_bytes(std::string("x\0y", 3)),
            std::vector<std::string>{std::string("x\0y", 3)});
  auto sum = torch::arange(6, torch::kFloat64).view({2, 3});
  const auto expected = sum.clone();
  group.all_reduce_sum(sum);
  EXPECT_TRUE(torch::equal(sum, expected));
  auto half = torch::ones({3}, torch::kBFloat16);
  group.all_reduce_sum(half);  // through a float32 host copy
  EXPECT_EQ(half.scalar_type(), torch::kBFloat16);
  EXPECT_TRUE(torch::equal(half, torch::ones({3}, torch::kBFloat16)));
  const auto whole = group.gather_cat(torch::arange(4, torch::kInt32).view({2, 2}), 1);
  EXPECT_TRUE(torch::equal(whole, torch::arange(4, torch::kInt32).view({2, 2})));
  EXPECT_TRUE(group.all_ok(true));
  EXPECT_FALSE(group.all_ok(false));
}

// One NCCL all-reduce on the GPU (world size 1: the sum is the tensor itself, on its GPU).
TEST(DistGroupOfOne, NcclSumsCudaTensorsOnTheGpu_CUDA) {
  if (!distributed_available()) GTEST_SKIP() << "this build has no Gloo (libgloo-dev)";
  DistGroup group = join_alone();
  if (!group.nccl()) {
    GTEST_SKIP() << "this LibTorch has no NCCL (ProcessGroupNCCL): CUDA tensors are summed "
                    "through Gloo on the host";
  }
  auto t =
      torch::arange(6, torch::TensorOptions(torch::kFloat32).device(torch::kCUDA)).view({2, 3});
  const auto expected = t.cpu();
  group.all_reduce_sum(t);
  EXPECT_TRUE(t.is_cuda());
  EXPECT_TRUE(torch::equal(t.cpu(), expected));
}

}  // namespace
}  // namespace headscope
