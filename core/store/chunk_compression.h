// Whole-chunk writes of a recording dataset with the compression done on worker threads.
//
// HDF5 runs a dataset's filters (shuffle, then deflate) on the calling thread, one chunk after
// another: at 128K tokens a layer's statistics are ~0.4 GB and deflate at ~60 MB/s made
// `record --attention stats` storage-bound (issue 17). Where a write covers whole chunks, this
// module shuffles and deflates the chunks itself in parallel, with the same filters and the same
// zlib stream format HDF5's deflate filter makes, and hands the finished chunks to HDF5
// (H5Dwrite_chunk) in order. Files read back exactly as before, in HDF5, h5py and xarray.
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <vector>

#include "core/base/dtype.h"
#include "core/store/hdf5_handle.h"

namespace headscope {

struct ChunkWriteOptions {
  // Worker threads that compress chunks; 0: one per core.
  unsigned threads = 0;
  ChunkWriteOptions& with_threads(unsigned n) { return threads = n, *this; }
};

// Whether write_whole_chunks can write the box [start, start + count) of `dataset`: its filters
// are exactly shuffle then deflate (as create_recording_dataset makes them) and the box starts
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

// HDF5's shuffle filter: byte b of element i goes to position b * n + i (n elements of
// element_size bytes). Exposed for the tests.
std::vector<uint8_t> shuffle_bytes(const uint8_t* data, size_t n, size_t element_size);

}  // namespace headscope
