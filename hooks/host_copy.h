// Device tensors to host memory for the deferred writes of a recording (issue 17, goal 4): on a
// GPU, into pinned memory on a side stream of the tensor's device, so that the copy engine
// moves a layer's statistics while the compute stream runs the next layers instead of queueing
// them behind the copy.
#pragma once

#include <utility>
#include <vector>

#include <c10/core/Stream.h>
#include <torch/types.h>

#include "core/store/chunk_write_queue.h"

namespace headscope {

class HostCopier {
 public:
  // The host bytes of `value` for RunWriter::write_slab_deferred. On the CPU the (contiguous)
  // tensor itself; on a GPU a pinned copy, started on the side stream once the work queued so
  // far on the compute stream (which made `value`) is done, and a wait_ready that waits for it
  // (polled: LibTorch 1.13's c10::Event has no synchronize). `value`'s memory is not reused
  // by the compute stream before the side stream has read it.
  DeferredSource copy(const torch::Tensor& value);

 private:
  // One side stream per device, taken from LibTorch's pool on first use.
  c10::Stream side_stream(c10::Device device);

  std::vector<std::pair<c10::Device, c10::Stream>> streams_;
};

}  // namespace headscope
