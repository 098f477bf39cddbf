#include "core/store/chunk_compression.h"

#include <libdeflate.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <thread>

#include "core/base/error.h"
#include "core/base/float16.h"

namespace headscope {
namespace {

// Raw (uncompressed) chunk bytes compressed per batch before the batch is written: bounds the
// memory at about twice this.
constexpr size_t kBatchBytes = size_t{64} << 20;

struct ChunkLayout {
  std::vector<hsize_t> chunk;  // chunk extents
  bool whole_chunks = false;   // no filters, or exactly shuffle then deflate
  int deflate_level = 0;       // 0: no filters
};

ChunkLayout chunk_layout(hid_t dataset, size_t rank, const H5Where& where) {
  H5Id creation =
      h5_own(H5Dget_create_plist(dataset), H5Kind::kPropList, where, "read dataset properties");
  ChunkLayout layout;
  if (H5Pget_layout(creation.get()) != H5D_CHUNKED) return layout;
  layout.chunk.resize(rank);
  if (H5Pget_chunk(creation.get(), static_cast<int>(rank), layout.chunk.data()) !=
      static_cast<int>(rank)) {
    return layout;
  }
  const int filters = H5Pget_nfilters(creation.get());
  if (filters == 0) {
    layout.whole_chunks = true;
    return layout;
  }
  if (filters != 2) return layout;
  unsigned flags = 0;
  size_t n_values = 1;
  unsigned values[1] = {0};
  unsigned config = 0;
  if (H5Pget_filter2(creation.get(), 0, &flags, &n_values, values, 0, nullptr, &config) !=
      H5Z_FILTER_SHUFFLE) {
    return layout;
  }
  n_values = 1;
  if (H5Pget_filter2(creation.get(), 1, &flags, &n_values, values, 0, nullptr, &config) !=
          H5Z_FILTER_DEFLATE ||
      n_values < 1 || values[0] < 1 || values[0] > 9) {
    return layout;
  }
  layout.whole_chunks = true;
  layout.deflate_level = static_cast<int>(values[0]);
  return layout;
}

// Row-major strides (in elements) of a box of these extents.
std::vector<size_t> strides_of(const std::vector<hsize_t>& extents) {
  std::vector<size_t> strides(extents.size(), 1);
  for (size_t axis = extents.size(); axis-- > 1;) {
    strides[axis - 1] = strides[axis] * extents[axis];
  }
  return strides;
}

// libdeflate's compressor of one level, one per thread (it is not shared between threads) and
// kept for the thread's next chunks: allocating one costs more than a small chunk's compression.
// libdeflate writes the zlib stream HDF5's deflate filter reads, about twice as fast as zlib at
// the same level and size.
libdeflate_compressor& thread_compressor(int level) {
  struct Free {
    void operator()(libdeflate_compressor* c) const { libdeflate_free_compressor(c); }
  };
  thread_local std::unique_ptr<libdeflate_compressor, Free> compressors[10];
  auto& slot = compressors[level];
  if (!slot) slot.reset(libdeflate_alloc_compressor(level));
  if (!slot) throw std::bad_alloc();
  return *slot;
}

// One chunk of the box, gathered into the chunk's own layout (zeros past the box), then shuffled
// and deflated unless the dataset has no filters.
class ChunkCompressor {
 public:
  ChunkCompressor(const std::vector<hsize_t>& count, const std::vector<hsize_t>& chunk,
                  size_t file_element, bool to_float16, int level, const void* data)
      : count_(count),
        chunk_(chunk),
        source_strides_(strides_of(count)),
        chunk_strides_(strides_of(chunk)),
        file_element_(file_element),
        to_float16_(to_float16),
        level_(level),
        data_(static_cast<const uint8_t*>(data)) {
    chunk_elements_ = 1;
    for (hsize_t extent : chunk) chunk_elements_ *= extent;
  }

  std::vector<uint8_t> compress(const std::vector<hsize_t>& index, const H5Where& where) const {
    const size_t rank = chunk_.size();
    std::vector<uint8_t> raw(chunk_elements_ * file_element_, 0);
    // The part of the chunk inside the box, and where it starts in the source.
    std::vector<hsize_t> extent(rank);
    size_t source_base = 0;
    for (size_t axis = 0; axis < rank; ++axis) {
      const hsize_t first = index[axis] * chunk_[axis];
      extent[axis] = std::min(chunk_[axis], count_[axis] - first);
      source_base += first * source_strides_[axis];
    }
    const size_t run = extent[rank - 1];
    const size_t source_element = to_float16_ ? sizeof(float) : file_element_;
    // Copies one run along the last axis per position of the leading axes.
    std::vector<hsize_t> at(rank, 0);
    while (true) {
      size_t source = source_base, target = 0;
      for (size_t axis = 0; axis + 1 < rank; ++axis) {
        source += at[axis] * source_strides_[axis];
        target += at[axis] * chunk_strides_[axis];
      }
      if (to_float16_) {
        const auto* floats = reinterpret_cast<const float*>(data_ + source * source_element);
        for (size_t i = 0; i < run; ++i) {
          const uint16_t half = float16_from_f32(floats[i]);
          std::memcpy(raw.data() + (target + i) * file_element_, &half, sizeof(half));
        }
      } else {
        std::memcpy(raw.data() + target * file_element_, data_ + source * source_element,
                    run * file_element_);
      }
      size_t axis = rank - 1;
      while (axis > 0 && ++at[axis - 1] == extent[axis - 1]) at[--axis] = 0;
      if (axis == 0) break;
    }
    if (level_ == 0) return raw;
    const std::vector<uint8_t> shuffled = shuffle_bytes(raw.data(), chunk_elements_, file_element_);
    libdeflate_compressor& compressor = thread_compressor(level_);
    std::vector<uint8_t> deflated(libdeflate_zlib_compress_bound(&compressor, shuffled.size()));
    const size_t size = libdeflate_zlib_compress(&compressor, shuffled.data(), shuffled.size(),
                                                 deflated.data(), deflated.size());
    if (size == 0) throw IoError(where.str() + ": cannot compress a chunk (libdeflate)");
    deflated.resize(size);
    return deflated;
  }

 private:
  std::vector<hsize_t> count_, chunk_;
  std::vector<size_t> source_strides_, chunk_strides_;
  size_t chunk_elements_ = 0;
  size_t file_element_;
  bool to_float16_;
  int level_;
  const uint8_t* data_;
};

// Runs work(0..n-1) on up to `threads` threads (the caller's among them); the first exception
// is rethrown once all have stopped.
template <typename Work>
void parallel_indices(size_t n, unsigned threads, const Work& work) {
  std::atomic<size_t> next{0};
  std::exception_ptr failure;
  std::mutex failure_lock;
  auto worker = [&] {
    for (size_t i; (i = next++) < n;) {
      try {
        work(i);
      } catch (...) {
        const std::lock_guard<std::mutex> lock(failure_lock);
        if (!failure) failure = std::current_exception();
        next = n;
      }
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < std::min<size_t>(threads, n); ++t) pool.emplace_back(worker);
  worker();
  for (std::thread& thread : pool) thread.join();
  if (failure) std::rethrow_exception(failure);
}

}  // namespace

std::vector<uint8_t> shuffle_bytes(const uint8_t* data, size_t n, size_t element_size) {
  std::vector<uint8_t> out(n * element_size);
  for (size_t i = 0; i < n; ++i) {
    for (size_t b = 0; b < element_size; ++b) out[b * n + i] = data[i * element_size + b];
  }
  return out;
}

bool writes_whole_chunks(hid_t dataset, const std::vector<hsize_t>& dims,
                         const std::vector<hsize_t>& start, const std::vector<hsize_t>& count,
                         const H5Where& where) {
  if (dims.empty()) return false;
  const ChunkLayout layout = chunk_layout(dataset, dims.size(), where);
  if (!layout.whole_chunks) return false;
  for (size_t axis = 0; axis < dims.size(); ++axis) {
    const hsize_t chunk = layout.chunk[axis];
    const hsize_t end = start[axis] + count[axis];
    if (count[axis] == 0 || start[axis] % chunk != 0 || (end % chunk != 0 && end != dims[axis])) {
      return false;
    }
  }
  return true;
}

unsigned compression_threads() {
  const char* torchrun = std::getenv("LOCAL_WORLD_SIZE");
  if (torchrun != nullptr) {
    return compression_threads(std::thread::hardware_concurrency(), "LOCAL_WORLD_SIZE", torchrun);
  }
  return compression_threads(std::thread::hardware_concurrency(), "OMPI_COMM_WORLD_LOCAL_SIZE",
                             std::getenv("OMPI_COMM_WORLD_LOCAL_SIZE"));
}

unsigned compression_threads(unsigned hardware, const char* variable, const char* local_size) {
  unsigned processes = 1;
  if (local_size != nullptr) {
    const std::string text = local_size;
    char* end = nullptr;
    errno = 0;
    const long long parsed = std::strtoll(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || errno == ERANGE || parsed < 1 || parsed > (1 << 20)) {
      throw InvalidInput("environment variable " + std::string(variable) + "=\"" + text +
                         "\": expected a positive integer (processes on this machine)");
    }
    processes = static_cast<unsigned>(parsed);
  }
  return std::max(1u, hardware / processes);
}

ChunkBox whole_chunk_box(hid_t dataset, DType file_dtype, DType data_dtype,
                         const std::vector<hsize_t>& start, const std::vector<hsize_t>& count,
                         const H5Where& where) {
  const ChunkLayout layout = chunk_layout(dataset, start.size(), where);
  HS_ASSERT(layout.whole_chunks);
  HS_ASSERT(data_dtype == file_dtype || (data_dtype == DType::kF32 && file_dtype == DType::kF16));
  return ChunkBox{layout.chunk, layout.deflate_level, file_dtype, data_dtype, start, count};
}

size_t chunk_count(const ChunkBox& box) {
  size_t n = 1;
  for (size_t axis = 0; axis < box.chunk.size(); ++axis) {
    n *= (box.count[axis] + box.chunk[axis] - 1) / box.chunk[axis];
  }
  return n;
}

std::vector<CompressedChunk> compress_chunks(const ChunkBox& box, const void* data, size_t first,
                                             size_t n, unsigned threads, const H5Where& where) {
  const size_t rank = box.chunk.size();
  const ChunkCompressor compressor(box.count, box.chunk, dtype_size(box.file_dtype),
                                   box.data_dtype != box.file_dtype, box.deflate_level, data);
  std::vector<hsize_t> chunks_per_axis(rank);
  for (size_t axis = 0; axis < rank; ++axis) {
    chunks_per_axis[axis] = (box.count[axis] + box.chunk[axis] - 1) / box.chunk[axis];
  }
  const std::vector<size_t> chunk_strides = strides_of(chunks_per_axis);
  std::vector<CompressedChunk> chunks(n);
  parallel_indices(n, threads > 0 ? threads : compression_threads(), [&](size_t i) {
    std::vector<hsize_t> index(rank);
    size_t flat = first + i;
    for (size_t axis = 0; axis < rank; ++axis) {
      index[axis] = flat / chunk_strides[axis];
      flat %= chunk_strides[axis];
    }
    chunks[i].bytes = compressor.compress(index, where);
    chunks[i].offset.resize(rank);
    for (size_t axis = 0; axis < rank; ++axis) {
      chunks[i].offset[axis] = box.start[axis] + index[axis] * box.chunk[axis];
    }
  });
  return chunks;
}

void write_compressed_chunks(hid_t dataset, const std::vector<CompressedChunk>& chunks,
                             const H5Where& where) {
  for (const CompressedChunk& chunk : chunks) {
    h5_check(H5Dwrite_chunk(dataset, H5P_DEFAULT, 0, chunk.offset.data(), chunk.bytes.size(),
                            chunk.bytes.data()),
             where, "write chunk");
  }
}

void write_whole_chunks(hid_t dataset, DType file_dtype, DType data_dtype,
                        const std::vector<hsize_t>& start, const std::vector<hsize_t>& count,
                        const void* data, const H5Where& where, const ChunkWriteOptions& options) {
  const ChunkBox box = whole_chunk_box(dataset, file_dtype, data_dtype, start, count, where);
  size_t chunk_bytes = dtype_size(file_dtype);
  for (hsize_t extent : box.chunk) chunk_bytes *= extent;
  const unsigned threads = options.threads > 0 ? options.threads : compression_threads();
  const size_t batch = std::max<size_t>(threads, kBatchBytes / chunk_bytes);
  const size_t n_chunks = chunk_count(box);
  for (size_t first = 0; first < n_chunks; first += batch) {
    write_compressed_chunks(
        dataset,
        compress_chunks(box, data, first, std::min(batch, n_chunks - first), threads, where),
        where);
  }
}

}  // namespace headscope
