// Whole-chunk writes overlapped with the caller's work (issue 17): a box's chunks are compressed
// on a background thread (with compression_threads() workers) and handed to HDF5 by a second
// one, while the caller goes on, e.g. with the next layer's forward pass.
//
// Debian's HDF5 is built without thread safety, so no two HDF5 calls may ever run at once: the
// writing thread holds hdf5_lock() (core/store/hdf5_handle.h) for each box it writes, and
// RunWriter takes the same lock for its own calls. The compressing thread only runs zlib on
// memory it owns. A write's error (a full disk, an HDF5 failure, zlib) surfaces as the IoError
// the synchronous write gives, from the next submit() or flush(); the writer above then leaves
// no half-written output (PartialGroup, StagedFile).
//
// Memory is bounded by a byte budget: submit() waits until the sources in flight (submitted and
// not yet written) fit it; one box is always let in. Neither submit() nor flush() may be called
// while the caller holds hdf5_lock(): the writing thread needs it to make progress.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
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

// Where a queue's time went (seconds, summed over its boxes): what tells a slow recording's
// storage apart from its compute.
struct ChunkWriteTimes {
  double caller_waited = 0;  // submit() waiting for the budget, flush() for the last writes
  double source_waited = 0;  // the compressing thread waiting for sources (wait_ready)
  double compressing = 0;    // the compressing thread's compression (on all its workers)
  double writing = 0;        // the writing thread in HDF5
  size_t source_bytes = 0;   // submitted
  size_t stored_bytes = 0;   // handed to HDF5 (compressed)
  ChunkWriteTimes& operator+=(const ChunkWriteTimes& other);
};

class ChunkWriteQueue {
 public:
  explicit ChunkWriteQueue(const ChunkWriteQueueOptions& options = {});
  ChunkWriteQueue(const ChunkWriteQueue&) = delete;
  ChunkWriteQueue& operator=(const ChunkWriteQueue&) = delete;
  // Finishes the box being compressed and the one being written, and drops the rest: a run
  // given up (an error) is deleted by its writer anyway.
  ~ChunkWriteQueue();

  // Queues the box (as whole_chunk_box describes it) of `dataset`, source_bytes of data, once
  // the sources in flight leave room for it. Throws the error of a failed earlier box.
  void submit(H5Id dataset, ChunkBox box, DeferredSource source, size_t source_bytes,
              H5Where where);
  // Waits until every queued box is written; throws the error of a failed one.
  void flush();
  // Source bytes submitted and not yet written.
  size_t bytes_in_flight() const;
  ChunkWriteTimes times() const;

 private:
  struct Box {
    H5Id dataset;
    ChunkBox layout;
    DeferredSource source;
    size_t bytes = 0;
    H5Where where;
    std::vector<CompressedChunk> chunks;
    std::exception_ptr error;  // of its compression
  };
  void compress_loop();
  void write_loop();
  // Destroys boxes (their dataset handles: HDF5 calls) under hdf5_lock().
  static void drop(std::deque<Box>& boxes);
  void rethrow_failure() const;  // lock_ held

  ChunkWriteQueueOptions options_;
  mutable std::mutex lock_;
  std::condition_variable changed_;  // any of the members below
  std::deque<Box> to_compress_;      // in submission order
  std::deque<Box> to_write_;         // compressed, in submission order
  size_t bytes_in_flight_ = 0;
  std::exception_ptr failure_;  // the first failed box's
  bool stopping_ = false;
  ChunkWriteTimes times_;
  // Last: they start after the members they use.
  std::thread compressor_;
  std::thread writer_;
};

}  // namespace headscope
