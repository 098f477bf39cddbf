// Whole-chunk writes compressed on worker threads (core/store/chunk_compression.h) against
// HDF5's own filter pipeline: same values read back, same chunk bytes, edge chunks and float16
// conversion included.
#include "core/store/chunk_compression.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "core/base/float16.h"
#include "core/store/group_writer.h"
#include "tests/support/temp_dir_test.h"

namespace headscope {
namespace {

class ChunkCompression : public test::TempDirTest {
 protected:
  void SetUp() override {
    test::TempDirTest::SetUp();
    path_ = (dir_ / "chunks.h5").string();
    file_ = h5_own(H5Fcreate(path_.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Kind::kFile,
                   where(), "create file");
  }
  H5Where where(const std::string& object = "/") const { return {path_, object}; }

  H5Id dataset(const std::string& name, DType dtype, const std::vector<hsize_t>& dims) {
    H5Id type = recording_file_type(dtype, where(name));
    return create_recording_dataset(file_.get(), name, type.get(), dims, where(name));
  }

  template <typename T>
  std::vector<T> read_all(hid_t set, hid_t memory_type, size_t n) {
    std::vector<T> values(n);
    h5_check(H5Dread(set, memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), where(),
             "read");
    return values;
  }

  // Every stored chunk's bytes, in chunk order.
  std::vector<std::vector<uint8_t>> stored_chunks(hid_t set) {
    hsize_t n = 0;
    H5Id space = h5_own(H5Dget_space(set), H5Kind::kDataspace, where(), "space");
    h5_check(H5Dget_num_chunks(set, space.get(), &n), where(), "count chunks");
    std::vector<std::vector<uint8_t>> chunks;
    const int rank = H5Sget_simple_extent_ndims(space.get());
    for (hsize_t i = 0; i < n; ++i) {
      std::vector<hsize_t> offset(static_cast<size_t>(rank));
      unsigned mask = 0;
      haddr_t address = 0;
      hsize_t size = 0;
      h5_check(H5Dget_chunk_info(set, space.get(), i, offset.data(), &mask, &address, &size),
               where(), "chunk info");
      EXPECT_EQ(mask, 0u) << "chunk " << i << " skipped a filter";
      std::vector<uint8_t> bytes(size);
      uint32_t filters = 0;
      h5_check(H5Dread_chunk(set, H5P_DEFAULT, offset.data(), &filters, bytes.data()), where(),
               "read chunk");
      chunks.push_back(std::move(bytes));
    }
    return chunks;
  }

  std::string path_;
  H5Id file_;
};

std::vector<float> random_floats(size_t n, uint32_t seed) {
  std::mt19937 generator(seed);
  std::normal_distribution<float> normal;
  std::vector<float> values(n);
  for (float& v : values) v = normal(generator);
  return values;
}

TEST(ChunkShuffle, MovesByteBOfElementIToBTimesNPlusI) {
  const std::vector<uint8_t> data{0x10, 0x11, 0x12, 0x20, 0x21, 0x22};  // 2 elements, 3 bytes
  EXPECT_EQ(shuffle_bytes(data.data(), 2, 3),
            (std::vector<uint8_t>{0x10, 0x20, 0x11, 0x21, 0x12, 0x22}));
}

TEST_F(ChunkCompression, EqualsHdf5sFilterPipelineWithEdgeChunks) {
  // [3, 2, 700, 5]: chunks [1, 1, 512, 5], the second along the rows clipped at 700.
  const std::vector<hsize_t> dims{3, 2, 700, 5};
  const size_t n = 3 * 2 * 700 * 5;
  const std::vector<float> values = random_floats(n, 1);
  H5Id by_hdf5 = dataset("by_hdf5", DType::kF32, dims);
  h5_check(H5Dwrite(by_hdf5.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()),
           where(), "write");
  for (unsigned threads : {1u, 3u}) {
    const std::string name = "parallel_" + std::to_string(threads);
    H5Id parallel = dataset(name, DType::kF32, dims);
    const std::vector<hsize_t> start(4, 0);
    ASSERT_TRUE(writes_whole_chunks(parallel.get(), dims, start, dims, where(name)));
    write_whole_chunks(parallel.get(), DType::kF32, DType::kF32, start, dims, values.data(),
                       where(name), ChunkWriteOptions().with_threads(threads));
    EXPECT_EQ(read_all<float>(parallel.get(), H5T_NATIVE_FLOAT, n), values) << name;
    EXPECT_EQ(stored_chunks(parallel.get()), stored_chunks(by_hdf5.get())) << name;
  }
}

TEST_F(ChunkCompression, WritesASlabOfWholeChunksAndLeavesTheRestUnwritten) {
  // [4, 3, 10] int32, chunks [1, 3, 10]: rows 1..2 written, rows 0 and 3 stay the fill value.
  const std::vector<hsize_t> dims{4, 3, 10};
  H5Id set = dataset("slab", DType::kI32, dims);
  std::vector<int32_t> slab(2 * 3 * 10);
  std::iota(slab.begin(), slab.end(), 1);
  const std::vector<hsize_t> start{1, 0, 0}, count{2, 3, 10};
  ASSERT_TRUE(writes_whole_chunks(set.get(), dims, start, count, where("slab")));
  write_whole_chunks(set.get(), DType::kI32, DType::kI32, start, count, slab.data(), where("slab"));
  const std::vector<int32_t> all = read_all<int32_t>(set.get(), H5T_NATIVE_INT32, 4 * 30);
  for (size_t i = 0; i < all.size(); ++i) {
    const bool inside = i >= 30 && i < 90;
    EXPECT_EQ(all[i], inside ? slab[i - 30] : 0) << i;
  }
  EXPECT_EQ(stored_chunks(set.get()).size(), 2u);
}

TEST_F(ChunkCompression, ConvertsFloat32ToFloat16AsTheSerialPathDoes) {
  const std::vector<hsize_t> dims{2, 600, 40};
  const size_t n = 2 * 600 * 40;
  const std::vector<float> values = random_floats(n, 2);
  H5Id set = dataset("half", DType::kF16, dims);
  const std::vector<hsize_t> start(3, 0);
  write_whole_chunks(set.get(), DType::kF16, DType::kF32, start, dims, values.data(), where("half"),
                     ChunkWriteOptions().with_threads(2));
  H5Id type = h5_own(H5Dget_type(set.get()), H5Kind::kDatatype, where(), "type");
  const std::vector<uint16_t> stored = read_all<uint16_t>(set.get(), type.get(), n);
  for (size_t i = 0; i < n; ++i) ASSERT_EQ(stored[i], float16_from_f32(values[i])) << i;
}

TEST_F(ChunkCompression, LeavesPartialChunksAndOtherFiltersToHdf5) {
  const std::vector<hsize_t> dims{2, 600, 40};
  H5Id set = dataset("partial", DType::kF32, dims);
  // Starts inside a chunk along the rows; ends inside one.
  EXPECT_FALSE(writes_whole_chunks(set.get(), dims, {0, 100, 0}, {1, 500, 40}, where()));
  EXPECT_FALSE(writes_whole_chunks(set.get(), dims, {0, 0, 0}, {1, 300, 40}, where()));
  EXPECT_TRUE(writes_whole_chunks(set.get(), dims, {1, 512, 0}, {1, 88, 40}, where()));
  // A contiguous (unfiltered) dataset.
  H5Id space =
      h5_own(H5Screate_simple(3, dims.data(), nullptr), H5Kind::kDataspace, where(), "space");
  H5Id plain = h5_own(H5Dcreate2(file_.get(), "plain", H5T_IEEE_F32LE, space.get(), H5P_DEFAULT,
                                 H5P_DEFAULT, H5P_DEFAULT),
                      H5Kind::kDataset, where(), "create");
  EXPECT_FALSE(writes_whole_chunks(plain.get(), dims, {0, 0, 0}, dims, where()));
}

}  // namespace
}  // namespace headscope
