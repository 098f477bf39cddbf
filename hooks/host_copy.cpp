#include "hooks/host_copy.h"

#include <chrono>
#include <memory>
#include <thread>

#include <c10/core/Event.h>
#include <c10/core/StreamGuard.h>
#include <c10/core/impl/VirtualGuardImpl.h>

namespace headscope {

c10::Stream HostCopier::side_stream(c10::Device device) {
  for (const auto& [d, stream] : streams_) {
    if (d == device) return stream;
  }
  const c10::impl::VirtualGuardImpl impl(device.type());
  streams_.emplace_back(device, impl.getStreamFromGlobalPool(device));
  return streams_.back().second;
}

DeferredSource HostCopier::copy(const torch::Tensor& value) {
  if (value.is_cpu()) {
    auto host = value.contiguous();
    return {std::shared_ptr<const void>(host.data_ptr(), [host](const void*) {}), {}};
  }
  const c10::Device device = value.device();
  const c10::impl::VirtualGuardImpl impl(device.type());
  const c10::Stream side = side_stream(device);
  c10::Event computed(device.type());
  computed.record(impl.getStream(device));
  computed.block(side);
  auto host = torch::empty(value.sizes(), value.options().device(torch::kCPU).pinned_memory(true));
  {
    const c10::StreamGuard on_side(side);
    host.copy_(value, /*non_blocking=*/true);
  }
  impl.recordDataPtrOnStream(value.storage().data_ptr(), side);
  auto copied = std::make_shared<c10::Event>(device.type());
  copied->record(side);
  return {std::shared_ptr<const void>(host.data_ptr(), [host](const void*) {}), [copied] {
            while (!copied->query()) std::this_thread::sleep_for(std::chrono::microseconds(100));
          }};
}

}  // namespace headscope
