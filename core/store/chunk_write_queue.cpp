#include "core/store/chunk_write_queue.h"

#include <chrono>
#include <utility>

namespace headscope {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

ChunkWriteTimes& ChunkWriteTimes::operator+=(const ChunkWriteTimes& other) {
  caller_waited += other.caller_waited;
  source_waited += other.source_waited;
  compressing += other.compressing;
  writing += other.writing;
  source_bytes += other.source_bytes;
  stored_bytes += other.stored_bytes;
  return *this;
}

ChunkWriteQueue::ChunkWriteQueue(const ChunkWriteQueueOptions& options)
    : options_(options),
      compressor_([this] { compress_loop(); }),
      writer_([this] { write_loop(); }) {}

ChunkWriteQueue::~ChunkWriteQueue() {
  {
    const std::lock_guard<std::mutex> guard(lock_);
    stopping_ = true;
  }
  changed_.notify_all();
  compressor_.join();
  writer_.join();
  drop(to_compress_);
  drop(to_write_);
}

void ChunkWriteQueue::drop(std::deque<Box>& boxes) {
  const std::lock_guard<std::recursive_mutex> hdf5(hdf5_lock());
  boxes.clear();
}

void ChunkWriteQueue::rethrow_failure() const {
  if (failure_) std::rethrow_exception(failure_);
}

void ChunkWriteQueue::compress_loop() {
  while (true) {
    Box box;
    {
      std::unique_lock<std::mutex> guard(lock_);
      changed_.wait(guard, [this] { return stopping_ || !to_compress_.empty(); });
      if (stopping_) return;
      box = std::move(to_compress_.front());
      to_compress_.pop_front();
    }
    double waited = 0, compressing = 0;
    try {
      auto start = Clock::now();
      if (box.source.wait_ready) box.source.wait_ready();
      waited = seconds_since(start);
      start = Clock::now();
      box.chunks = compress_chunks(box.layout, box.source.data.get(), 0, chunk_count(box.layout),
                                   options_.threads, box.where);
      compressing = seconds_since(start);
    } catch (...) {
      box.error = std::current_exception();
    }
    box.source = DeferredSource();  // the source's memory goes back now, not when written
    {
      const std::lock_guard<std::mutex> guard(lock_);
      times_.source_waited += waited;
      times_.compressing += compressing;
      to_write_.push_back(std::move(box));
    }
    changed_.notify_all();
  }
}

void ChunkWriteQueue::write_loop() {
  while (true) {
    Box box;
    bool failed = false;
    {
      std::unique_lock<std::mutex> guard(lock_);
      changed_.wait(guard, [this] { return stopping_ || !to_write_.empty(); });
      if (stopping_) return;
      box = std::move(to_write_.front());
      to_write_.pop_front();
      failed = failure_ != nullptr;
    }
    std::exception_ptr error = box.error;
    double writing = 0;
    size_t stored = 0;
    {
      const std::lock_guard<std::recursive_mutex> hdf5(hdf5_lock());
      if (!error && !failed) {
        const auto start = Clock::now();
        try {
          h5_init();
          write_compressed_chunks(box.dataset.get(), box.chunks, box.where);
        } catch (...) {
          error = std::current_exception();
        }
        writing = seconds_since(start);
        for (const CompressedChunk& chunk : box.chunks) stored += chunk.bytes.size();
      }
      box.dataset.reset();
    }
    box.chunks.clear();
    {
      const std::lock_guard<std::mutex> guard(lock_);
      bytes_in_flight_ -= box.bytes;
      if (error && !failure_) failure_ = error;
      times_.writing += writing;
      times_.stored_bytes += stored;
    }
    changed_.notify_all();
  }
}

void ChunkWriteQueue::submit(H5Id dataset, ChunkBox box, DeferredSource source, size_t source_bytes,
                             H5Where where) {
  const auto start = Clock::now();
  bool queued_it = false;
  {
    std::unique_lock<std::mutex> guard(lock_);
    changed_.wait(guard, [&] {
      return failure_ || bytes_in_flight_ == 0 ||
             bytes_in_flight_ + source_bytes <= options_.byte_budget;
    });
    times_.caller_waited += seconds_since(start);
    if (!failure_) {
      Box queued;
      queued.dataset = std::move(dataset);
      queued.layout = std::move(box);
      queued.source = std::move(source);
      queued.bytes = source_bytes;
      queued.where = std::move(where);
      to_compress_.push_back(std::move(queued));
      bytes_in_flight_ += source_bytes;
      times_.source_bytes += source_bytes;
      queued_it = true;
    }
  }
  if (!queued_it) {  // a box failed
    {
      const std::lock_guard<std::recursive_mutex> hdf5(hdf5_lock());
      dataset.reset();
    }
    const std::lock_guard<std::mutex> guard(lock_);
    rethrow_failure();
  }
  changed_.notify_all();
}

void ChunkWriteQueue::flush() {
  const auto start = Clock::now();
  std::unique_lock<std::mutex> guard(lock_);
  changed_.wait(guard, [this] { return failure_ || bytes_in_flight_ == 0; });
  times_.caller_waited += seconds_since(start);
  rethrow_failure();
}

size_t ChunkWriteQueue::bytes_in_flight() const {
  const std::lock_guard<std::mutex> guard(lock_);
  return bytes_in_flight_;
}

ChunkWriteTimes ChunkWriteQueue::times() const {
  const std::lock_guard<std::mutex> guard(lock_);
  return times_;
}

}  // namespace headscope
