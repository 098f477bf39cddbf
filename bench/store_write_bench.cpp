// Writing one layer's attention statistics to a recording (issue 17: at 128K tokens a layer holds
// ~0.4 GB of top-k lists and block mass, and HDF5 deflates them on one thread), three ways:
//   hdf5      H5Dwrite through HDF5's own shuffle + deflate pipeline (what record did before)
//   threads   core/store/chunk_compression: the same filters, chunks compressed on N threads
// Data shaped as the statistics recorder writes them (hooks/attention_stats_recorder.cpp), with
// values like real ones (indices near the query, probabilities summing to below 1, causal block
// mass), so compression ratios are realistic; files written to --dir and closed inside the time.
//   store_write_bench [--tokens T] [--heads H] [--topk K] [--block-size B] [--threads 1,2,..]
//                     [--compression deflate:4,deflate:1,none] [--repeats N] [--dir DIR]
// One JSON object on stdout: the shape, raw megabytes, and per storage form and method the
// median wall and CPU seconds, MB/s of raw data (wall) and the file's size.
#include <hdf5.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <functional>
#include <iostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_main.h"
#include "bench/median.h"
#include "core/store/chunk_compression.h"
#include "core/store/compression.h"
#include "core/store/group_writer.h"

namespace headscope {
namespace {

struct Array {
  std::string name;
  DType dtype;
  std::vector<hsize_t> dims;
  std::vector<uint8_t> bytes;
};

std::vector<Array> layer_statistics(int64_t tokens, int64_t heads, int64_t topk,
                                    int64_t block_size) {
  std::mt19937 rng(0);
  std::exponential_distribution<float> decay(1.0f);
  std::geometric_distribution<int32_t> back(0.05);
  const auto t = static_cast<hsize_t>(tokens), h = static_cast<hsize_t>(heads),
             k = static_cast<hsize_t>(topk);
  std::vector<Array> arrays;
  auto add = [&](const std::string& name, DType dtype, std::vector<hsize_t> dims,
                 const std::function<void(void*, size_t)>& fill) {
    size_t n = 1;
    for (hsize_t d : dims) n *= d;
    Array a{name, dtype, std::move(dims), std::vector<uint8_t>(n * dtype_size(dtype))};
    fill(a.bytes.data(), n);
    arrays.push_back(std::move(a));
  };
  for (const char* name : {"entropy", "sink_mass", "local_mass", "max_prob"}) {
    add(name, DType::kF32, {1, h, t}, [&](void* p, size_t n) {
      auto* f = static_cast<float*>(p);
      for (size_t i = 0; i < n; ++i) f[i] = std::min(1.0f, decay(rng) / 4);
    });
  }
  add("argmax", DType::kI32, {1, h, t}, [&](void* p, size_t n) {
    auto* v = static_cast<int32_t*>(p);
    for (size_t i = 0; i < n; ++i) {
      v[i] = std::max<int32_t>(0, static_cast<int32_t>(i % t) - back(rng));
    }
  });
  add("topk_index", DType::kI32, {1, h, t, k}, [&](void* p, size_t n) {
    auto* v = static_cast<int32_t*>(p);
    for (size_t i = 0; i < n; ++i) {
      v[i] = std::max<int32_t>(0, static_cast<int32_t>((i / k) % t) - back(rng));
    }
  });
  add("topk_prob", DType::kF32, {1, h, t, k}, [&](void* p, size_t n) {
    auto* f = static_cast<float*>(p);
    for (size_t i = 0; i < n; ++i) f[i] = decay(rng) / static_cast<float>(k);
  });
  const hsize_t blocks = (t + static_cast<hsize_t>(block_size) - 1) / block_size;
  add("block_mass", DType::kF32, {h, blocks, blocks}, [&](void* p, size_t n) {
    auto* f = static_cast<float*>(p);
    for (size_t i = 0; i < n; ++i) {
      const size_t query = (i / blocks) % blocks, key = i % blocks;
      f[i] = key > query ? 0.0f : decay(rng) / static_cast<float>(query + 1);
    }
  });
  return arrays;
}

struct Seconds {
  double wall = 0, cpu = 0;
};

// Time to write every array into a new file at `path` and close it; threads 0: HDF5's path.
// CPU time (all threads of the process) is what a shared machine measures fairly.
Seconds write_file(const std::string& path, const std::vector<Array>& arrays, unsigned threads,
                   const Compression& compression) {
  const auto start = std::chrono::steady_clock::now();
  const std::clock_t cpu_start = std::clock();
  {
    H5Id file = h5_own(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT),
                       H5Kind::kFile, {path, "/"}, "create file");
    for (const Array& a : arrays) {
      const H5Where where{path, a.name};
      H5Id type = recording_file_type(a.dtype, where);
      H5Id set =
          create_recording_dataset(file.get(), a.name, type.get(), a.dims, where, compression);
      if (threads == 0) {
        h5_check(H5Dwrite(set.get(), recording_memory_type(a.dtype, type.get()), H5S_ALL, H5S_ALL,
                          H5P_DEFAULT, a.bytes.data()),
                 where, "write");
      } else {
        write_whole_chunks(set.get(), a.dtype, a.dtype, std::vector<hsize_t>(a.dims.size(), 0),
                           a.dims, a.bytes.data(), where,
                           ChunkWriteOptions().with_threads(threads));
      }
    }
  }
  return {std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
          static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC};
}

}  // namespace
}  // namespace headscope

int main(int argc, char** argv) {
  using namespace headscope;
  CLI::App app{"Write one layer's attention statistics: HDF5's filters against parallel chunks"};
  int64_t tokens = 32768, heads = 32, topk = 16, block_size = 128, repeats = 3;
  std::vector<unsigned> threads{1, std::max(1u, std::thread::hardware_concurrency())};
  std::string dir = std::filesystem::temp_directory_path().string();
  std::vector<std::string> compressions{"deflate:4"};
  app.add_option("--tokens", tokens, "Sequence length T")
      ->check(cli::integer_in(1, 1 << 20))
      ->capture_default_str();
  app.add_option("--heads", heads, "Query heads")
      ->check(cli::integer_in(1, 1024))
      ->capture_default_str();
  app.add_option("--topk", topk, "Top-k list length")
      ->check(cli::integer_in(1, 1024))
      ->capture_default_str();
  app.add_option("--block-size", block_size, "Block of block_mass")
      ->check(cli::integer_in(1, 1 << 20))
      ->capture_default_str();
  app.add_option("--threads", threads, "Thread counts of the parallel writer")
      ->delimiter(',')
      ->check(CLI::Range(1u, 1024u));
  app.add_option("--compression", compressions,
                 "Storage forms (record --compression's), each timed with every method")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--dir", dir, "Where the files are written (removed afterwards)")
      ->check(CLI::ExistingDirectory);
  bench::add_repeat_options(app, repeats);
  return bench::bench_main(app, argc, argv, [&] {
    const std::vector<Array> arrays = layer_statistics(tokens, heads, topk, block_size);
    double raw = 0;
    for (const Array& a : arrays) raw += static_cast<double>(a.bytes.size()) / 1e6;
    const std::string path = (std::filesystem::path(dir) / "store_write_bench.h5").string();
    std::vector<unsigned> methods{0};
    methods.insert(methods.end(), threads.begin(), threads.end());
    std::printf(
        "{\"tokens\": %lld, \"heads\": %lld, \"topk\": %lld, \"block_size\": %lld, "
        "\"raw_mb\": %.1f, \"cores\": %u, \"methods\": [",
        static_cast<long long>(tokens), static_cast<long long>(heads), static_cast<long long>(topk),
        static_cast<long long>(block_size), raw, std::thread::hardware_concurrency());
    bool first = true;
    for (const std::string& form : compressions) {
      const Compression compression = parse_compression(form, "--compression");
      for (const unsigned method : methods) {
        std::vector<double> wall, cpu;
        for (int64_t r = 0; r < repeats; ++r) {
          const Seconds t = write_file(path, arrays, method, compression);
          wall.push_back(t.wall);
          cpu.push_back(t.cpu);
        }
        const double s = bench::median(wall);
        const double file_mb = static_cast<double>(std::filesystem::file_size(path)) / 1e6;
        std::printf(
            "%s{\"compression\": \"%s\", \"method\": \"%s\", \"threads\": %u, \"s\": %.3f, "
            "\"cpu_s\": %.3f, \"raw_mb_per_s\": %.1f, \"file_mb\": %.1f}",
            first ? "" : ", ", compression_name(compression).c_str(),
            method ? "parallel_chunks" : "hdf5_filters", method ? method : 1, s, bench::median(cpu),
            raw / s, file_mb);
        first = false;
        std::fflush(stdout);
      }
    }
    std::printf("]}\n");
    std::filesystem::remove(path);
    return 0;
  });
}
