#include "dist/process_group.h"

#include <algorithm>
#include <cstdlib>
#include <exception>
#include <utility>

#include <torch/types.h>

#include "core/base/error.h"

#ifdef HEADSCOPE_WITH_GLOO
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif
#ifdef HEADSCOPE_WITH_NCCL
#include <torch/cuda.h>
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

namespace headscope {

#ifdef HEADSCOPE_WITH_GLOO
struct DistGroup::Backend {
  c10::intrusive_ptr<c10d::ProcessGroupGloo> group;
#ifdef HEADSCOPE_WITH_NCCL
  c10::intrusive_ptr<c10d::ProcessGroupNCCL> nccl;  // null where no GPU is seen
#endif
};

namespace {

std::string where(const LaunchEnv& env) {
  return "rank " + std::to_string(env.rank) + " of " + std::to_string(env.world_size) + " (" +
         env.launcher + ", store " + env.master_addr + ":" + std::to_string(env.master_port) + ")";
}

// A collective failed: another rank died or timed out. c10d's own message stays as the cause.
[[noreturn]] void collective_failed(const LaunchEnv& env, const char* what,
                                    const std::exception& e) {
  throw IoError("distributed " + std::string(what) + " failed at " + where(env) +
                ": another rank stopped or did not answer in time (" + e.what() + ")");
}

}  // namespace

DistGroup DistGroup::join(const LaunchEnv& env, const DistOptions& options) {
  if (!env.distributed() && !options.group_of_one) return DistGroup(env, nullptr);
  auto backend = std::make_unique<Backend>();
  try {
    c10d::TCPStoreOptions store_options;
    store_options.port = static_cast<uint16_t>(env.master_port);
    // torchrun's agent already serves the store; under mpirun rank 0 serves it.
    store_options.isServer = env.rank == 0 && !env.agent_store;
    store_options.numWorkers = static_cast<size_t>(env.world_size);
    store_options.waitWorkers = false;
    store_options.timeout = options.timeout;
    auto tcp = c10::make_intrusive<c10d::TCPStore>(env.master_addr, store_options);
    // Keys of this attempt only (torchrun restarts reuse its store).
    auto store = c10::make_intrusive<c10d::PrefixStore>(
        "headscope/attempt_" + std::to_string(env.attempt), tcp);
    auto gloo = c10d::ProcessGroupGloo::Options::create(options.timeout);
    const char* interface = std::getenv("GLOO_SOCKET_IFNAME");
    gloo->devices.push_back(interface != nullptr
                                ? c10d::ProcessGroupGloo::createDeviceForInterface(interface)
                                : c10d::ProcessGroupGloo::createDefaultDevice());
    backend->group =
        c10::make_intrusive<c10d::ProcessGroupGloo>(store, env.rank, env.world_size, gloo);
#ifdef HEADSCOPE_WITH_NCCL
    // NCCL makes its communicators at the first collective, on the GPU of its tensor.
    if (torch::cuda::is_available()) {
      auto nccl = c10d::ProcessGroupNCCL::Options::create();
      nccl->timeout = options.timeout;
      backend->nccl = c10::make_intrusive<c10d::ProcessGroupNCCL>(
          c10::make_intrusive<c10d::PrefixStore>("nccl", store), env.rank, env.world_size, nccl);
    }
#endif
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw IoError("distributed launch: " + where(env) + " could not join the group: " + e.what());
  }
  return DistGroup(env, std::move(backend));
}

namespace {

// This rank's bytes padded to the longest rank's size (at least 1: Gloo refuses empty
// buffers), with every rank's size (an all-gather: the padding of a gather must agree).
struct PaddedBytes {
  std::vector<int64_t> sizes;
  int64_t longest = 1;
  std::vector<at::Tensor> mine;
};

PaddedBytes pad_to_longest(c10d::ProcessGroupGloo& group, size_t world, const std::string& mine) {
  std::vector<at::Tensor> size_in{torch::tensor({static_cast<int64_t>(mine.size())})};
  std::vector<std::vector<at::Tensor>> size_out(1);
  for (size_t r = 0; r < world; ++r) size_out[0].push_back(torch::zeros({1}, torch::kInt64));
  group.allgather(size_out, size_in)->wait();
  PaddedBytes padded;
  for (const auto& t : size_out[0]) {
    padded.sizes.push_back(t.item<int64_t>());
    padded.longest = std::max(padded.longest, padded.sizes.back());
  }
  auto bytes = torch::zeros({padded.longest}, torch::kUInt8);
  std::copy(mine.begin(), mine.end(), reinterpret_cast<char*>(bytes.data_ptr<uint8_t>()));
  padded.mine.push_back(bytes);
  return padded;
}

// One receive buffer per rank, for the padded bytes.
std::vector<std::vector<at::Tensor>> receive_buffers(size_t world, int64_t longest) {
  std::vector<std::vector<at::Tensor>> buffers(1);
  for (size_t r = 0; r < world; ++r) buffers[0].push_back(torch::empty({longest}, torch::kUInt8));
  return buffers;
}

std::vector<std::string> unpad(const std::vector<at::Tensor>& buffers,
                               const std::vector<int64_t>& sizes) {
  std::vector<std::string> parts;
  for (size_t r = 0; r < buffers.size(); ++r) {
    const auto* data = reinterpret_cast<const char*>(buffers[r].data_ptr<uint8_t>());
    parts.emplace_back(data, static_cast<size_t>(sizes[r]));
  }
  return parts;
}

}  // namespace

std::vector<std::string> DistGroup::all_gather_bytes(const std::string& mine) {
  if (!backend_) return {mine};
  const auto world = static_cast<size_t>(env_.world_size);
  try {
    PaddedBytes padded = pad_to_longest(*backend_->group, world, mine);
    auto received = receive_buffers(world, padded.longest);
    backend_->group->allgather(received, padded.mine)->wait();
    return unpad(received[0], padded.sizes);
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    collective_failed(env_, "gather of results", e);
  }
}

std::vector<std::string> DistGroup::gather_bytes(const std::string& mine) {
  if (!backend_) return {mine};
  const auto world = static_cast<size_t>(env_.world_size);
  try {
    PaddedBytes padded = pad_to_longest(*backend_->group, world, mine);
    // Gloo's gather takes the receive buffers on the root only.
    auto received =
        is_root() ? receive_buffers(world, padded.longest) : std::vector<std::vector<at::Tensor>>{};
    c10d::GatherOptions options;
    options.rootRank = 0;
    backend_->group->gather(received, padded.mine, options)->wait();
    return is_root() ? unpad(received[0], padded.sizes) : std::vector<std::string>{};
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    collective_failed(env_, "gather to rank 0", e);
  }
}

void DistGroup::all_reduce_sum(torch::Tensor& t) {
  if (!backend_) return;
  try {
#ifdef HEADSCOPE_WITH_NCCL
    if (backend_->nccl && t.is_cuda()) {
      std::vector<at::Tensor> buffer{t.is_contiguous() ? t : t.contiguous()};
      backend_->nccl->allreduce(buffer)->wait();
      if (!buffer[0].is_same(t)) t.copy_(buffer[0]);
      return;
    }
#endif
    const bool direct = t.is_cpu() && t.is_contiguous() &&
                        (t.scalar_type() == torch::kFloat32 || t.scalar_type() == torch::kFloat64);
    std::vector<at::Tensor> buffer{direct ? t : t.to(torch::kCPU, torch::kFloat32).contiguous()};
    backend_->group->allreduce(buffer)->wait();
    if (!direct) t.copy_(buffer[0]);
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    collective_failed(env_, "all-reduce", e);
  }
}

bool DistGroup::all_ok(bool ok) {
  if (!backend_) return ok;
  try {
    std::vector<at::Tensor> flag{torch::tensor({ok ? 0 : 1}, torch::kInt64)};
    backend_->group->allreduce(flag)->wait();
    return flag[0].item<int64_t>() == 0;
  } catch (const std::exception& e) {
    collective_failed(env_, "status exchange", e);
  }
}

bool DistGroup::nccl() const {
#ifdef HEADSCOPE_WITH_NCCL
  return backend_ && backend_->nccl;
#else
  return false;
#endif
}

bool distributed_available() {
  return true;
}

#else

struct DistGroup::Backend {};

DistGroup DistGroup::join(const LaunchEnv& env, const DistOptions&) {
  if (env.distributed()) {
    throw InvalidInput("distributed launch (" + env.launcher + ", WORLD_SIZE " +
                       std::to_string(env.world_size) +
                       "): this build of headscope has no Gloo (install libgloo-dev and rebuild)");
  }
  return DistGroup(env, nullptr);
}

std::vector<std::string> DistGroup::all_gather_bytes(const std::string& mine) {
  return {mine};
}

std::vector<std::string> DistGroup::gather_bytes(const std::string& mine) {
  return {mine};
}

void DistGroup::all_reduce_sum(torch::Tensor&) {}

bool DistGroup::all_ok(bool ok) {
  return ok;
}

bool DistGroup::nccl() const {
  return false;
}

bool distributed_available() {
  return false;
}

#endif

torch::Tensor DistGroup::gather_cat(const torch::Tensor& mine, int64_t dim) {
  const auto host = mine.detach().to(torch::kCPU).contiguous();
  if (!backend_) return host;
  const std::string bytes(static_cast<const char*>(host.data_ptr()), host.nbytes());
  const std::vector<std::string> parts = gather_bytes(bytes);
  if (!is_root()) return {};
  // Every rank's share has this rank's sizes but along `dim`, which its byte count gives.
  const int64_t axis = dim < 0 ? dim + host.dim() : dim;
  HS_ASSERT(host.size(axis) > 0);
  const int64_t row_bytes = static_cast<int64_t>(host.nbytes()) / host.size(axis);
  std::vector<torch::Tensor> shares;
  for (const std::string& part : parts) {
    auto shape = host.sizes().vec();
    shape[static_cast<size_t>(axis)] = static_cast<int64_t>(part.size()) / row_bytes;
    auto share = torch::empty(shape, host.options());
    HS_ASSERT(share.nbytes() == part.size());
    std::copy(part.begin(), part.end(), static_cast<char*>(share.data_ptr()));
    shares.push_back(share);
  }
  return torch::cat(shares, axis);
}

DistGroup::DistGroup(LaunchEnv env, std::unique_ptr<Backend> backend)
    : env_(std::move(env)), backend_(std::move(backend)) {}
DistGroup::DistGroup(DistGroup&&) noexcept = default;
DistGroup& DistGroup::operator=(DistGroup&&) noexcept = default;
DistGroup::~DistGroup() = default;

}  // namespace headscope
