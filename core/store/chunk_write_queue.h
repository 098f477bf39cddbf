// Whole-chunk writes overlapped with the caller's work (issue 17): a box's chunks are compressed
// on a background thread (with compression_threads() workers) while the caller goes on, e.g.
// with the next layer's forward pass, and written to the file later by the caller's thread.
//
// Why the caller writes: Debian's HDF5 is built without thread safety, so no two HDF5 calls may
// ever run at once, and every other write of the recording (activations, tokens, attributes)
// happens on the recording thread. The background thread therefore only runs zlib on memory it
// owns; every HDF5 call (opening the dataset, reading its filters, H5Dwrite_chunk) stays on the
// thread that calls submit(), write_finished() and flush(). A write's error (a full disk, an
// HDF5 failure, zlib) surfaces as the IoError the synchronous write gives, from the next of
// those calls on; the writer above then leaves no half-written output (PartialGroup, StagedFile).
//
// Memory is bounded by a byte budget: submit() writes the oldest boxes (waiting for their
// compression) until the sources in flight fit it; one box is always let in.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/store/chunk_compression.h"
#include "core/store/hdf5_handle.h"

namespace headscope {

// The bytes of a deferred write: kept alive until compressed, then released.
struct DeferredSource {
  std::shared_ptr<const void> data;
  // Called on the background thread before data is read (e.g. waits for a device-to-host copy
  // made without blocking the device's stream); may be empty.
  std::function<void()> wait_ready;
};

struct ChunkWriteQueueOptions {
  // Source bytes in flight (compressed or not yet written); compressed chunks take at most about
  // as much again.
  size_t byte_budget = size_t{1} << 30;
  unsigned threads = 0;  // compression threads; 0: compression_threads()
  ChunkWriteQueueOptions& with_byte_budget(size_t b) { return byte_budget = b, *this; }
  ChunkWriteQueueOptions& with_threads(unsigned n) { return threads = n, *this; }
};

class ChunkWriteQueue {
 public:
  explicit ChunkWriteQueue(const ChunkWriteQueueOptions& options = {});
  ChunkWriteQueue(const ChunkWriteQueue&) = delete;
  ChunkWriteQueue& operator=(const ChunkWriteQueue&) = delete;
  // Waits for the compression in progress and writes nothing more: a run given up (an error)
  // is deleted by its writer anyway.
  ~ChunkWriteQueue();

  // Queues the box (as whole_chunk_box describes it) of `dataset`, source_bytes of data, after
  // writing the boxes already compressed and, while over the budget, the oldest ones.
  void submit(H5Id dataset, ChunkBox box, DeferredSource source, size_t source_bytes,
              H5Where where);
  // Writes the boxes whose compression has finished, oldest first, up to the first that has not.
  void write_finished();
  // Writes every queued box.
  void flush();
  // Source bytes submitted and not yet written.
  size_t bytes_in_flight() const { return bytes_in_flight_; }

 private:
  struct Pending {
    H5Id dataset;
    H5Where where;
    size_t bytes;
    std::future<std::vector<CompressedChunk>> chunks;
  };
  void write_oldest();
  void work();

  ChunkWriteQueueOptions options_;
  std::deque<Pending> pending_;  // the caller's side, in submission order
  size_t bytes_in_flight_ = 0;

  std::mutex lock_;
  std::condition_variable wake_;
  std::deque<std::packaged_task<std::vector<CompressedChunk>()>> tasks_;  // guarded by lock_
  bool stopping_ = false;                                                 // guarded by lock_
  std::thread worker_;  // last: starts after the members it uses
};

}  // namespace headscope
