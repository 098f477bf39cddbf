#include "dist/launch_env.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <string>

#include "core/base/error.h"

namespace headscope {
namespace {

int64_t integer_variable(const char* name, const char* value, int64_t min, int64_t max) {
  const std::string text = value;
  char* end = nullptr;
  errno = 0;
  const long long parsed = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno == ERANGE || parsed < min || parsed > max) {
    throw InvalidInput("environment variable " + std::string(name) + "=\"" + text +
                       "\": expected an integer in [" + std::to_string(min) + ", " +
                       std::to_string(max) + "]");
  }
  return parsed;
}

// The largest launch we accept: far beyond any cluster, small enough that no count overflows.
constexpr int64_t kMaxWorld = 1 << 20;

}  // namespace

LaunchEnv launch_env_from(const std::function<const char*(const char*)>& lookup) {
  LaunchEnv env;
  const char* rank = lookup("RANK");
  const char* world = lookup("WORLD_SIZE");
  const char* rank_name = "RANK";
  const char* world_name = "WORLD_SIZE";
  const char* local_name = "LOCAL_RANK";
  const char* local_size_name = "LOCAL_WORLD_SIZE";
  if (rank == nullptr && world == nullptr) {
    rank = lookup(rank_name = "OMPI_COMM_WORLD_RANK");
    world = lookup(world_name = "OMPI_COMM_WORLD_SIZE");
    local_name = "OMPI_COMM_WORLD_LOCAL_RANK";
    local_size_name = "OMPI_COMM_WORLD_LOCAL_SIZE";
    if (rank == nullptr && world == nullptr) return env;
    env.launcher = "mpirun";
  } else {
    env.launcher = "torchrun";
  }
  if (rank == nullptr || world == nullptr) {
    throw InvalidInput(std::string("environment: ") + (rank == nullptr ? rank_name : world_name) +
                       " is not set but " + (rank == nullptr ? world_name : rank_name) +
                       " is: a multi-process launch sets both");
  }
  env.world_size = integer_variable(world_name, world, 1, kMaxWorld);
  env.rank = integer_variable(rank_name, rank, 0, env.world_size - 1);
  if (const char* local = lookup(local_name)) {
    env.local_rank = integer_variable(local_name, local, 0, env.world_size - 1);
  } else {
    env.local_rank = env.rank;
  }
  env.local_world_size = env.world_size;
  if (const char* local_size = lookup(local_size_name)) {
    env.local_world_size = integer_variable(local_size_name, local_size, 1, env.world_size);
  }
  if (const char* addr = lookup("MASTER_ADDR")) {
    env.master_addr = addr;
    if (env.master_addr.empty()) {
      throw InvalidInput("environment variable MASTER_ADDR: expected a host name or address");
    }
  }
  if (const char* port = lookup("MASTER_PORT")) {
    env.master_port = integer_variable("MASTER_PORT", port, 1, 65535);
  }
  if (const char* agent = lookup("TORCHELASTIC_USE_AGENT_STORE")) {
    env.agent_store = std::string(agent) == "True";
  }
  if (const char* restarts = lookup("TORCHELASTIC_RESTART_COUNT")) {
    env.attempt = integer_variable("TORCHELASTIC_RESTART_COUNT", restarts, 0, kMaxWorld);
  }
  return env;
}

LaunchEnv launch_env() {
  return launch_env_from([](const char* name) { return std::getenv(name); });
}

int64_t rank_threads(const LaunchEnv& env, int64_t requested, const char* omp_num_threads,
                     int64_t cores) {
  if (requested > 0) return requested;
  if (!env.distributed()) return 0;
  const bool torchrun_default = env.launcher == "torchrun" && omp_num_threads != nullptr &&
                                std::string(omp_num_threads) == "1";
  if (omp_num_threads != nullptr && !torchrun_default) return 0;
  return std::max<int64_t>(1, cores / env.local_world_size);
}

}  // namespace headscope
