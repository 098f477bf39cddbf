// Where this process stands in a multi-process launch, from the variables the launchers set:
// torchrun (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT, and
// TORCHELASTIC_USE_AGENT_STORE when its agent already hosts the rendezvous store) or Open MPI's
// mpirun (OMPI_COMM_WORLD_RANK, _SIZE, _LOCAL_RANK, _LOCAL_SIZE; MASTER_ADDR/MASTER_PORT from the
// user, or 127.0.0.1:29500 for one host). No variables: a single process.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace headscope {

struct LaunchEnv {
  int64_t rank = 0;
  int64_t world_size = 1;
  int64_t local_rank = 0;
  // Processes of the launch on this host (LOCAL_WORLD_SIZE, OMPI_COMM_WORLD_LOCAL_SIZE; the
  // whole world when unset).
  int64_t local_world_size = 1;
  std::string master_addr = "127.0.0.1";
  int64_t master_port = 29500;
  // torchrun's agent hosts the store: every rank connects to it, none serves one.
  bool agent_store = false;
  // torchrun's restart count: keys of an earlier attempt must not be read by this one.
  int64_t attempt = 0;
  // Which launcher's variables were read: "torchrun", "mpirun" or "" (single process).
  std::string launcher;

  bool distributed() const { return world_size > 1; }
};

// Reads the launch from `lookup` (a getenv; nullptr for an unset variable). Throws InvalidInput
// naming the variable and what was expected for a value that is not a number in range, a rank
// outside the world, or a launch with only some of the variables set.
LaunchEnv launch_env_from(const std::function<const char*(const char*)>& lookup);

// The launch of this process (its environment).
LaunchEnv launch_env();

// The intra-op threads (LibTorch's at::set_num_threads) of a process of `env` on a host of
// `cores` cores: `requested` (--threads) when positive; else, in a launch, one share of the
// cores, max(1, cores / local_world_size), so the processes of one host do not oversubscribe
// it, unless the user set OMP_NUM_THREADS (`omp_num_threads`, nullptr when unset). torchrun sets
// OMP_NUM_THREADS=1 itself for its workers when the user did not, so under torchrun a value of
// 1 counts as unset (--threads 1 asks for one thread). 0: keep LibTorch's own count.
int64_t rank_threads(const LaunchEnv& env, int64_t requested, const char* omp_num_threads,
                     int64_t cores);

}  // namespace headscope
