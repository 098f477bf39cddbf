// Every stored chunk of an HDF5 dataset as the file holds it (after its filters), for tests that
// compare the bytes two writers made, and those chunks inflated.
#pragma once

#include <hdf5.h>
#include <libdeflate.h>

#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

#include "core/store/hdf5_handle.h"

namespace headscope::test {

// In chunk order; a chunk that skipped a filter fails the test.
inline std::vector<std::vector<uint8_t>> stored_chunks(hid_t dataset, const H5Where& where) {
  hsize_t n = 0;
  H5Id space = h5_own(H5Dget_space(dataset), H5Kind::kDataspace, where, "space");
  h5_check(H5Dget_num_chunks(dataset, space.get(), &n), where, "count chunks");
  std::vector<std::vector<uint8_t>> chunks;
  const int rank = H5Sget_simple_extent_ndims(space.get());
  for (hsize_t i = 0; i < n; ++i) {
    std::vector<hsize_t> offset(static_cast<size_t>(rank));
    unsigned mask = 0;
    haddr_t address = 0;
    hsize_t size = 0;
    h5_check(H5Dget_chunk_info(dataset, space.get(), i, offset.data(), &mask, &address, &size),
             where, "chunk info");
    EXPECT_EQ(mask, 0u) << where.str() << ": chunk " << i << " skipped a filter";
    std::vector<uint8_t> bytes(size);
    uint32_t filters = 0;
    h5_check(H5Dread_chunk(dataset, H5P_DEFAULT, offset.data(), &filters, bytes.data()), where,
             "read chunk");
    chunks.push_back(std::move(bytes));
  }
  return chunks;
}

// The chunks inflated (each a zlib stream of `raw_bytes` bytes, as HDF5's deflate filter stores
// them): two deflate encoders may write different streams of the same bytes.
inline std::vector<std::vector<uint8_t>> inflated(const std::vector<std::vector<uint8_t>>& chunks,
                                                  size_t raw_bytes) {
  libdeflate_decompressor* decompressor = libdeflate_alloc_decompressor();
  std::vector<std::vector<uint8_t>> out;
  for (const auto& chunk : chunks) {
    std::vector<uint8_t> bytes(raw_bytes);
    size_t size = 0;
    const auto status = libdeflate_zlib_decompress(decompressor, chunk.data(), chunk.size(),
                                                   bytes.data(), bytes.size(), &size);
    EXPECT_EQ(status, LIBDEFLATE_SUCCESS) << "chunk " << out.size() << " is no zlib stream";
    bytes.resize(size);
    out.push_back(std::move(bytes));
  }
  libdeflate_free_decompressor(decompressor);
  return out;
}

}  // namespace headscope::test
