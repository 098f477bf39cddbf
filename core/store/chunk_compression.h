// Whole-chunk writes of a recording dataset with the compression done on worker threads.
//
// HDF5 runs a dataset's filters (shuffle, then deflate) on the calling thread, one chunk after
// another: at 128K tokens a layer's statistics are ~0.4 GB and deflate at ~60 MB/s made
// `record --attention stats` storage-bound (issue 17). Where a write covers whole chunks, this
// module shuffles and deflates the chunks itself in parallel (libdeflate), with the same filters
// and the zlib stream format HDF5's deflate filter reads, and hands the finished chunks to HDF5
// (H5Dwrite_chunk) in order. Files read back exactly as before, in HDF5, h5py and xarray.
// Datasets without filters (`record --compression none`) take the same path, chunks raw.
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <vector>

#include "core/base/dtype.h"
#include "core/store/hdf5_handle.h"

namespace headscope {

struct ChunkWriteOptions {
  // Worker threads that compress chunks; 0: compression_threads().
  unsigned threads = 0;
  ChunkWriteOptions& with_threads(unsigned n) { return threads = n, *this; }
};

// Compression threads per process: the cores shared among the processes of this machine, so
// that ranks under torchrun (LOCAL_WORLD_SIZE) or mpirun (OMPI_COMM_WORLD_LOCAL_SIZE) do not
// oversubscribe them; at least 1.
unsigned compression_threads();
// The same from the core count and the variable's value (nullptr: unset). InvalidInput naming
// the variable unless it is a positive integer.
unsigned compression_threads(unsigned hardware, const char* variable, const char* local_size);

// What compressing a box of whole chunks needs from its dataset, read on the thread that owns
// the file; compressing it then makes no HDF5 call (Debian's HDF5 is not thread-safe).
struct ChunkBox {
  std::vector<hsize_t> chunk;  // chunk extents
  int deflate_level = 0;       // 0: no filters (chunks stored raw)
  DType file_dtype = DType::kF32, data_dtype = DType::kF32;
  std::vector<hsize_t> start, count;
};

struct CompressedChunk {
  std::vector<hsize_t> offset;  // in the dataset
  std::vector<uint8_t> bytes;   // shuffled and deflated, as HDF5 stores them
};

// Whether write_whole_chunks can write the box [start, start + count) of `dataset`: its filters
// are exactly shuffle then deflate at level 1..9, or none (as create_recording_dataset makes
// them), and the box starts
// on chunk boundaries and ends on one or at the dataset's end, on every axis.
bool writes_whole_chunks(hid_t dataset, const std::vector<hsize_t>& dims,
                         const std::vector<hsize_t>& start, const std::vector<hsize_t>& count,
                         const H5Where& where);

// Writes the box (writes_whole_chunks must hold): data is count's product of elements of
// data_dtype, row-major; float32 data goes to a float16 dataset converted, as write_box does.
// The parts of edge chunks outside the dataset are zero, as HDF5 stores them.
void write_whole_chunks(hid_t dataset, DType file_dtype, DType data_dtype,
                        const std::vector<hsize_t>& start, const std::vector<hsize_t>& count,
                        const void* data, const H5Where& where,
                        const ChunkWriteOptions& options = {});

// The box's layout (writes_whole_chunks must hold), with write_whole_chunks' dtype rule.
ChunkBox whole_chunk_box(hid_t dataset, DType file_dtype, DType data_dtype,
                         const std::vector<hsize_t>& start, const std::vector<hsize_t>& count,
                         const H5Where& where);
// Chunks in the box.
size_t chunk_count(const ChunkBox& box);
// Chunks [first, first + n) of the box, in chunk order, compressed on `threads` threads (the
// caller's among them; 0: compression_threads()). data as write_whole_chunks takes it. No HDF5
// call: safe on any thread. IoError naming `where` if compression fails.
std::vector<CompressedChunk> compress_chunks(const ChunkBox& box, const void* data, size_t first,
                                             size_t n, unsigned threads, const H5Where& where);
// Hands compressed chunks to HDF5 (H5Dwrite_chunk), in order.
void write_compressed_chunks(hid_t dataset, const std::vector<CompressedChunk>& chunks,
                             const H5Where& where);

// HDF5's shuffle filter: byte b of element i goes to position b * n + i (n elements of
// element_size bytes). Exposed for the tests.
std::vector<uint8_t> shuffle_bytes(const uint8_t* data, size_t n, size_t element_size);

}  // namespace headscope
