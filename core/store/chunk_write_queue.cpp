#include "core/store/chunk_write_queue.h"

#include <chrono>
#include <utility>

namespace headscope {

ChunkWriteQueue::ChunkWriteQueue(const ChunkWriteQueueOptions& options)
    : options_(options), worker_([this] { work(); }) {}

ChunkWriteQueue::~ChunkWriteQueue() {
  {
    const std::lock_guard<std::mutex> guard(lock_);
    stopping_ = true;
    tasks_.clear();
  }
  wake_.notify_one();
  worker_.join();
}

void ChunkWriteQueue::work() {
  while (true) {
    std::packaged_task<std::vector<CompressedChunk>()> task;
    {
      std::unique_lock<std::mutex> guard(lock_);
      wake_.wait(guard, [this] { return stopping_ || !tasks_.empty(); });
      if (stopping_) return;
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    task();  // an exception goes to the task's future
  }
}

void ChunkWriteQueue::submit(H5Id dataset, ChunkBox box, DeferredSource source, size_t source_bytes,
                             H5Where where) {
  write_finished();
  while (!pending_.empty() && bytes_in_flight_ + source_bytes > options_.byte_budget) {
    write_oldest();
  }
  // One task per box, compressed by all workers in turn: boxes finish in submission order.
  std::packaged_task<std::vector<CompressedChunk>()> task(
      [box = std::move(box), source = std::move(source), threads = options_.threads,
       where]() mutable {
        if (source.wait_ready) source.wait_ready();
        auto chunks = compress_chunks(box, source.data.get(), 0, chunk_count(box), threads, where);
        source = DeferredSource();  // the source's memory goes back now, not when written
        return chunks;
      });
  pending_.push_back(
      Pending{std::move(dataset), std::move(where), source_bytes, task.get_future()});
  bytes_in_flight_ += source_bytes;
  {
    const std::lock_guard<std::mutex> guard(lock_);
    tasks_.push_back(std::move(task));
  }
  wake_.notify_one();
}

void ChunkWriteQueue::write_finished() {
  while (!pending_.empty() &&
         pending_.front().chunks.wait_for(std::chrono::seconds(0)) == std::future_status::ready) {
    write_oldest();
  }
}

void ChunkWriteQueue::flush() {
  while (!pending_.empty()) write_oldest();
}

void ChunkWriteQueue::write_oldest() {
  Pending oldest = std::move(pending_.front());
  pending_.pop_front();
  bytes_in_flight_ -= oldest.bytes;
  write_compressed_chunks(oldest.dataset.get(), oldest.chunks.get(), oldest.where);
}

}  // namespace headscope
