// Whole-chunk writes compressed on worker threads (core/store/chunk_compression.h) against
// HDF5's own filter pipeline: same values read back, same chunk bytes once inflated, edge chunks,
// float16 conversion, deflate levels and unfiltered (`none`) datasets included; the same writes
// overlapped (core/store/chunk_write_queue.h) against synchronous ones, within their byte budget,
// and their failure against the synchronous one.
#include "core/store/chunk_compression.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <numeric>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/base/error.h"
#include "core/base/float16.h"
#include "core/store/chunk_write_queue.h"
#include "core/store/compression.h"
#include "core/store/group_writer.h"
#include "core/store/recording_writer.h"
#include "tests/support/model_summary.h"
#include "tests/support/stored_chunks.h"
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

  H5Id dataset(const std::string& name, DType dtype, const std::vector<hsize_t>& dims,
               const Compression& compression = {}) {
    H5Id type = recording_file_type(dtype, where(name));
    return create_recording_dataset(file_.get(), name, type.get(), dims, where(name), compression);
  }

  template <typename T>
  std::vector<T> read_all(hid_t set, hid_t memory_type, size_t n) {
    std::vector<T> values(n);
    h5_check(H5Dread(set, memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), where(),
             "read");
    return values;
  }

  // The dataset `name` opened again and its box [start, start + count) of float32 data, as a
  // ChunkWriteQueue takes them; under hdf5_lock(), since a queue's writing thread may be calling
  // HDF5 meanwhile.
  std::pair<H5Id, ChunkBox> queued_box(const std::string& name, DType file_dtype,
                                       const std::vector<hsize_t>& start,
                                       const std::vector<hsize_t>& count) {
    const std::lock_guard<std::recursive_mutex> hdf5(hdf5_lock());
    H5Id handle =
        h5_own(H5Dopen2(file_.get(), name.c_str(), H5P_DEFAULT), H5Kind::kDataset, where(), "open");
    ChunkBox box =
        whole_chunk_box(handle.get(), file_dtype, DType::kF32, start, count, where(name));
    return {std::move(handle), std::move(box)};
  }

  std::vector<std::vector<uint8_t>> stored_chunks(hid_t set) {
    return test::stored_chunks(set, where());
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
  const size_t n = 3 * 2 * 700 * 5, chunk_bytes = 512 * 5 * sizeof(float);
  const std::vector<float> values = random_floats(n, 1);
  for (const Compression& compression :
       {Compression{}, Compression::deflate(4), Compression::deflate(9), Compression::none()}) {
    const std::string tag = compression_name(compression);
    H5Id by_hdf5 = dataset("by_hdf5 " + tag, DType::kF32, dims, compression);
    h5_check(
        H5Dwrite(by_hdf5.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()),
        where(), "write");
    const auto hdf5_chunks = stored_chunks(by_hdf5.get());
    for (unsigned threads : {1u, 3u}) {
      const std::string name = "parallel_" + std::to_string(threads) + " " + tag;
      H5Id parallel = dataset(name, DType::kF32, dims, compression);
      const std::vector<hsize_t> start(4, 0);
      ASSERT_TRUE(writes_whole_chunks(parallel.get(), dims, start, dims, where(name)));
      write_whole_chunks(parallel.get(), DType::kF32, DType::kF32, start, dims, values.data(),
                         where(name), ChunkWriteOptions().with_threads(threads));
      EXPECT_EQ(read_all<float>(parallel.get(), H5T_NATIVE_FLOAT, n), values) << name;
      const auto chunks = stored_chunks(parallel.get());
      if (compression == Compression::none()) {
        // Raw chunks: the bytes HDF5 stores, edge chunks zero-padded as it pads them.
        EXPECT_EQ(chunks, hdf5_chunks) << name;
        for (const auto& chunk : chunks) EXPECT_EQ(chunk.size(), chunk_bytes) << name;
      } else {
        EXPECT_EQ(test::inflated(chunks, chunk_bytes), test::inflated(hdf5_chunks, chunk_bytes))
            << name;
      }
    }
  }
}

TEST_F(ChunkCompression, StoresTheLevelItWasGivenOrNoFilters) {
  for (const Compression& compression : {Compression::deflate(1), Compression::none()}) {
    const std::string name = compression_name(compression);
    H5Id set = dataset(name, DType::kF32, {4, 600}, compression);
    H5Id creation = h5_own(H5Dget_create_plist(set.get()), H5Kind::kPropList, where(), "plist");
    if (compression == Compression::none()) {
      EXPECT_EQ(H5Pget_nfilters(creation.get()), 0) << name;
      continue;
    }
    ASSERT_EQ(H5Pget_nfilters(creation.get()), 2) << name;
    unsigned flags = 0, config = 0, level = 0;
    size_t n_values = 1;
    EXPECT_EQ(H5Pget_filter2(creation.get(), 1, &flags, &n_values, &level, 0, nullptr, &config),
              H5Z_FILTER_DEFLATE);
    EXPECT_EQ(level, 1u);
  }
}

TEST(CompressionOption, ReadsNoneDeflateAndALevel) {
  EXPECT_EQ(parse_compression("none", "--compression"), Compression::none());
  EXPECT_EQ(parse_compression("deflate", "--compression"), Compression::deflate(1));
  EXPECT_EQ(parse_compression("deflate:9", "--compression"), Compression::deflate(9));
  EXPECT_EQ(compression_name(Compression::deflate(2)), "deflate:2");
  for (const char* bad : {"", "zstd", "deflate:", "deflate:0", "deflate:10", "deflate:x"}) {
    try {
      parse_compression(bad, "--compression");
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const InvalidInput& e) {
      EXPECT_NE(std::string(e.what()).find("--compression \"" + std::string(bad) + "\""),
                std::string::npos)
          << e.what();
    }
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

namespace headscope {
namespace {

TEST(CompressionThreads, ShareTheCoresAmongTheProcessesOfTheMachine) {
  EXPECT_EQ(compression_threads(16, "LOCAL_WORLD_SIZE", nullptr), 16u);
  EXPECT_EQ(compression_threads(16, "LOCAL_WORLD_SIZE", "4"), 4u);
  EXPECT_EQ(compression_threads(16, "LOCAL_WORLD_SIZE", "3"), 5u);
  EXPECT_EQ(compression_threads(2, "LOCAL_WORLD_SIZE", "8"), 1u);
  EXPECT_EQ(compression_threads(0, "LOCAL_WORLD_SIZE", nullptr), 1u);  // unknown core count
  for (const char* bad : {"0", "-2", "two", "", "4x"}) {
    try {
      compression_threads(16, "LOCAL_WORLD_SIZE", bad);
      ADD_FAILURE() << bad;
    } catch (const InvalidInput& e) {
      EXPECT_NE(std::string(e.what()).find("LOCAL_WORLD_SIZE=\"" + std::string(bad) + "\""),
                std::string::npos)
          << e.what();
    }
  }
}

// Layers of a [layers, 3, 700] dataset (chunks [1, 3, 512]: edge chunks on the last axis), one
// box per layer, as the statistics recorder writes them.
TEST_F(ChunkCompression, QueuedWritesEqualSynchronousOnesAndStayWithinTheBudget) {
  constexpr hsize_t kLayers = 5, kRows = 3, kCols = 700;
  const std::vector<hsize_t> dims{kLayers, kRows, kCols};
  const size_t layer_elements = kRows * kCols;
  const std::vector<float> values = random_floats(kLayers * layer_elements, 3);
  for (const DType file_dtype : {DType::kF32, DType::kF16}) {
    const std::string tag = dtype_name(file_dtype);
    H5Id direct = dataset("direct_" + tag, file_dtype, dims);
    write_whole_chunks(direct.get(), file_dtype, DType::kF32, {0, 0, 0}, dims, values.data(),
                       where(), ChunkWriteOptions().with_threads(1));
    const std::string name = "queued_" + tag;
    H5Id queued = dataset(name, file_dtype, dims);
    const size_t layer_bytes = layer_elements * sizeof(float);
    std::vector<std::weak_ptr<const void>> sources;
    {
      ChunkWriteQueue queue(
          ChunkWriteQueueOptions().with_byte_budget(2 * layer_bytes).with_threads(2));
      for (hsize_t layer = 0; layer < kLayers; ++layer) {
        // The source is filled by wait_ready: compression must read it only afterwards.
        auto source = std::make_shared<std::vector<float>>(layer_elements, 0.0f);
        const float* first = values.data() + layer * layer_elements;
        DeferredSource deferred{
            std::shared_ptr<const void>(source, source->data()),
            [source, first] { std::copy_n(first, source->size(), source->data()); }};
        sources.emplace_back(deferred.data);
        auto [handle, box] = queued_box(name, file_dtype, {layer, 0, 0}, {1, kRows, kCols});
        source.reset();
        queue.submit(std::move(handle), std::move(box), std::move(deferred), layer_bytes,
                     where(name));
        EXPECT_LE(queue.bytes_in_flight(), 2 * layer_bytes) << "layer " << layer;
      }
      queue.flush();
      EXPECT_EQ(queue.bytes_in_flight(), 0u);
      const ChunkWriteTimes times = queue.times();
      EXPECT_EQ(times.source_bytes, kLayers * layer_bytes);
      EXPECT_GT(times.stored_bytes, 0u);
    }
    for (const auto& source : sources) EXPECT_TRUE(source.expired()) << tag;
    EXPECT_EQ(stored_chunks(queued.get()), stored_chunks(direct.get())) << tag;
  }
}

// The recording thread's own HDF5 calls (datasets, attributes, synchronous writes) go on while
// the queue's thread writes the deferred boxes: hdf5_lock() keeps them apart, and every value
// reads back.
TEST_F(ChunkCompression, DeferredWritesRunBesideTheRecordingThreadsOwnCalls) {
  constexpr int64_t kLayers = 24, kHeads = 4, kTokens = 4096;
  const size_t layer_elements = kHeads * kTokens;
  const std::vector<float> values = random_floats(kLayers * layer_elements, 5);
  const std::string file = (dir_ / "beside.h5").string();
  auto writer = RecordingWriter::open(file, test::made_up_model(kLayers, kHeads), OutputMode::kNew);
  auto run = writer.begin_run();
  run.create_array("x", DType::kF32, {kLayers, kHeads, kTokens});
  run.defer_writes(
      ChunkWriteQueueOptions().with_threads(2).with_byte_budget(3 * layer_elements * 4));
  for (int64_t layer = 0; layer < kLayers; ++layer) {
    const float* data = values.data() + layer * layer_elements;
    run.write_slab_deferred("x", {layer, 0, 0}, {1, kHeads, kTokens}, DType::kF32,
                            {std::shared_ptr<const void>(data, [](const void*) {}), {}},
                            layer_elements * sizeof(float));
    const std::string own = "own/layer_" + std::to_string(layer);
    run.write_array(own, DType::kF32, {kHeads, kTokens}, DType::kF32, data);
    for (int64_t i = 0; i < 8; ++i) run.set_attribute(own, "a" + std::to_string(i), i);
  }
  run.commit();
  const ChunkWriteTimes times = run.deferred_times();
  writer.finish();
  EXPECT_EQ(times.source_bytes, kLayers * layer_elements * sizeof(float));
  EXPECT_GT(times.stored_bytes, 0u);
  EXPECT_GT(times.writing, 0.0);

  H5Id read =
      h5_own(H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Kind::kFile, {file, ""}, "open");
  H5Id x =
      h5_own(H5Dopen2(read.get(), "runs/0/x", H5P_DEFAULT), H5Kind::kDataset, {file, "x"}, "open");
  EXPECT_EQ(read_all<float>(x.get(), H5T_NATIVE_FLOAT, values.size()), values);
  for (int64_t layer = 0; layer < kLayers; ++layer) {
    const std::string own = "runs/0/own/layer_" + std::to_string(layer);
    H5Id set = h5_own(H5Dopen2(read.get(), own.c_str(), H5P_DEFAULT), H5Kind::kDataset, {file, own},
                      "open");
    const std::vector<float> got = read_all<float>(set.get(), H5T_NATIVE_FLOAT, layer_elements);
    EXPECT_TRUE(std::equal(got.begin(), got.end(), values.begin() + layer * layer_elements)) << own;
  }
}

// The writing thread calls HDF5 only while it holds hdf5_lock(): a compressed box waits while
// another thread holds the lock, and is written once it is released.
TEST_F(ChunkCompression, TheWritingThreadWaitsForTheHdf5Lock) {
  const std::vector<hsize_t> dims{1, 3, 700};
  const std::string name = "x";
  H5Id set = dataset(name, DType::kF32, dims);
  const std::vector<float> values = random_floats(3 * 700, 6);
  const size_t bytes = values.size() * sizeof(float);
  ChunkWriteQueue queue(ChunkWriteQueueOptions().with_threads(1));
  auto [handle, box] = queued_box(name, DType::kF32, {0, 0, 0}, dims);
  // Held from before the submission: taken after it, the box could be written first (it was, in
  // one CI run). Submitting under the lock is safe here: one box never waits for the budget.
  std::unique_lock<std::recursive_mutex> hdf5(hdf5_lock());
  queue.submit(std::move(handle), std::move(box),
               {std::shared_ptr<const void>(values.data(), [](const void*) {}), {}}, bytes,
               where(name));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (queue.times().compressing == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_GT(queue.times().compressing, 0.0) << "not compressed in 30 s";
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(queue.bytes_in_flight(), bytes) << "written while another thread held the lock";
  hdf5.unlock();
  queue.flush();
  EXPECT_EQ(queue.bytes_in_flight(), 0u);
  EXPECT_EQ(read_all<float>(set.get(), H5T_NATIVE_FLOAT, values.size()), values);
}

// A source that cannot be made ready (a failed device copy) fails the run with its own error.
TEST_F(ChunkCompression, AFailedSourceSurfacesFromTheQueue) {
  const std::vector<hsize_t> dims{2, 3, 700};
  const std::string name = "x";
  H5Id set = dataset(name, DType::kF32, dims);
  const std::vector<float> values(3 * 700, 1.0f);
  ChunkWriteQueue queue(ChunkWriteQueueOptions().with_threads(1));
  for (hsize_t layer = 0; layer < 2; ++layer) {
    auto [handle, box] = queued_box(name, DType::kF32, {layer, 0, 0}, {1, 3, 700});
    DeferredSource source{std::shared_ptr<const void>(values.data(), [](const void*) {}), [layer] {
                            if (layer == 0) throw IoError("device copy failed");
                          }};
    try {
      queue.submit(std::move(handle), std::move(box), std::move(source), values.size() * 4,
                   where(name));
    } catch (const IoError& e) {
      EXPECT_STREQ(e.what(), "device copy failed");  // the first box's error, at the second
    }
  }
  try {
    queue.flush();
    ADD_FAILURE() << "flush after a failed box";
  } catch (const IoError& e) {
    EXPECT_STREQ(e.what(), "device copy failed");
  }
}

// Restores the file size limit and SIGXFSZ's handler on the way out.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    getrlimit(RLIMIT_FSIZE, &saved_);
    previous_ = std::signal(SIGXFSZ, SIG_IGN);  // writes past it fail with EFBIG instead
    rlimit limit = saved_;
    limit.rlim_cur = bytes;
    setrlimit(RLIMIT_FSIZE, &limit);
  }
  ~FileSizeLimit() { lift(); }
  void lift() {
    if (lifted_) return;
    setrlimit(RLIMIT_FSIZE, &saved_);
    std::signal(SIGXFSZ, previous_);
    lifted_ = true;
  }

 private:
  rlimit saved_{};
  void (*previous_)(int) = nullptr;
  bool lifted_ = false;
};

// A disk that fills up (a file size limit) in the middle of a recording: the overlapped writes
// fail with the synchronous writes' message, and neither leaves a file.
TEST_F(ChunkCompression, AFailedQueuedWriteGivesTheSynchronousErrorAndNoFile) {
  constexpr int64_t kLayers = 8, kHeads = 4, kTokens = 8192;
  const size_t layer_elements = kHeads * kTokens;
  const std::vector<float> values = random_floats(kLayers * layer_elements, 4);  // ~1 MiB
  auto record = [&](const std::string& file, bool deferred) {
    auto writer =
        RecordingWriter::open(file, test::made_up_model(kLayers, kHeads), OutputMode::kNew);
    auto run = writer.begin_run();
    run.create_array("x", DType::kF32, {kLayers, kHeads, kTokens});
    if (deferred) run.defer_writes(ChunkWriteQueueOptions().with_threads(2));
    FileSizeLimit limit(256 << 10);
    try {
      for (int64_t layer = 0; layer < kLayers; ++layer) {
        const float* data = values.data() + layer * layer_elements;
        if (deferred) {
          run.write_slab_deferred("x", {layer, 0, 0}, {1, kHeads, kTokens}, DType::kF32,
                                  {std::shared_ptr<const void>(data, [](const void*) {}), {}},
                                  layer_elements * sizeof(float));
        } else {
          run.write_slab("x", {layer, 0, 0}, {1, kHeads, kTokens}, DType::kF32, data);
        }
      }
      run.commit();
      writer.finish();
    } catch (const IoError& e) {
      limit.lift();
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const std::string sync_file = (dir_ / "sync.h5").string();
  const std::string deferred_file = (dir_ / "deferred.h5").string();
  const std::string sync_error = record(sync_file, false);
  const std::string deferred_error = record(deferred_file, true);
  // The same message up to HDF5's detail (which holds buffer addresses).
  const std::string expected = sync_file + ": /runs/0/x: cannot write chunk";
  EXPECT_EQ(sync_error.rfind(expected, 0), 0u) << sync_error;
  EXPECT_EQ(deferred_error.rfind(deferred_file + ": /runs/0/x: cannot write chunk", 0), 0u)
      << deferred_error;
  EXPECT_FALSE(std::filesystem::exists(sync_file));
  EXPECT_FALSE(std::filesystem::exists(deferred_file));
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    EXPECT_EQ(entry.path().filename(), "chunks.h5") << "left beside the outputs";
  }
}

}  // namespace
}  // namespace headscope
