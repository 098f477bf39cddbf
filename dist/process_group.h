// One c10d process group per launch (LibTorch's distributed engine: Gloo between CPU processes;
// the payloads here are results, so they travel through host memory even when the ranks compute
// on GPUs). Joined from the launcher's environment (dist/launch_env.h); a single process needs no
// group and every collective is then the identity. Where LibTorch has NCCL (ProcessGroupNCCL,
// found by a compile-time check in dist/CMakeLists.txt: HEADSCOPE_WITH_NCCL) and a GPU is seen,
// the group also holds an NCCL group, and all_reduce_sum sums CUDA tensors on their GPUs
// through it; everything else, and every build without NCCL (Debian's LibTorch), uses Gloo.
//
//   DistGroup group = DistGroup::join(launch_env());
//   auto parts = group.all_gather_bytes(encode(my_results));  // parts[r]: rank r's bytes
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

#include "dist/launch_env.h"

namespace headscope {

struct DistOptions {
  // How long a rank waits for the others (store rendezvous and each collective) before it
  // fails with an error naming the launch, instead of hanging when a rank died.
  std::chrono::milliseconds timeout = std::chrono::minutes(30);
  // Join a real group even for one process (world size 1), whose collectives then run through
  // c10d as a launch's do: for the tests of the collectives themselves.
  bool group_of_one = false;
};

class DistGroup {
 public:
  // Joins the group of `env` (rendezvous through a TCP store at MASTER_ADDR:MASTER_PORT).
  // Throws IoError naming the rank and the store's address when the group cannot be joined in
  // time, InvalidInput when world_size > 1 and this build has no Gloo.
  static DistGroup join(const LaunchEnv& env, const DistOptions& options = {});
  DistGroup(DistGroup&&) noexcept;
  DistGroup& operator=(DistGroup&&) noexcept;
  ~DistGroup();

  int64_t rank() const { return env_.rank; }
  int64_t world_size() const { return env_.world_size; }
  bool is_root() const { return env_.rank == 0; }
  const LaunchEnv& env() const { return env_; }

  // Every rank's bytes, indexed by rank, on every rank (sizes may differ).
  std::vector<std::string> all_gather_bytes(const std::string& mine);
  // Every rank's bytes, indexed by rank, on rank 0 only (empty elsewhere): each share crosses
  // the group once, where an all-gather sends it to every rank.
  std::vector<std::string> gather_bytes(const std::string& mine);
  // Sums `t` in place over the ranks (a tensor-parallel model's partial outputs; every rank
  // passes one of the same shape). CUDA tensors go through NCCL on their GPU where the group
  // has it (nccl()); otherwise Gloo sums host float32 and float64 as they are, and any other
  // dtype or device through a float32 host copy.
  void all_reduce_sum(torch::Tensor& t);
  // Whether CUDA tensors are summed by NCCL (an NCCL build, a GPU seen, a joined group).
  bool nccl() const;
  // Every rank's `mine` concatenated along `dim` in rank order, in host memory on rank 0 (an
  // undefined tensor elsewhere; the sizes along `dim` may differ, the other sizes and the dtype
  // must agree). Travels as host bytes (gather_bytes). One process: `mine` on the host.
  torch::Tensor gather_cat(const torch::Tensor& mine, int64_t dim);
  // Whether every rank passed `ok`; lets a rank that failed tell the others, so they stop with
  // an error instead of waiting for results that will not come.
  bool all_ok(bool ok);

 private:
  struct Backend;
  DistGroup(LaunchEnv env, std::unique_ptr<Backend> backend);

  LaunchEnv env_;
  std::unique_ptr<Backend> backend_;  // null for a single process
};

// Whether this build can join a group of more than one process.
bool distributed_available();

}  // namespace headscope
