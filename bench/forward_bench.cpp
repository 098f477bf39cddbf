// headscope's plain forward pass (no hooks, nothing recorded) on a model of a config.json's shape
// with random weights: the headscope side of bench/forward_transformers.py.
//   forward_bench CONFIG_DIR [--device cpu|cuda] [--dtype auto|bf16|f32|f16] [--layers N]
//                 [--repeats N] [--warmup N] T...
// For each length T, batch 1: warm-up forwards, then the median of the timed repeats (each
// ends with a device synchronisation). One JSON object per length on stdout:
//   T, layers, device, dtype, headscope_ms, peak_gib, logits, error
// peak_gib: the CUDA caching allocator's peak allocated bytes over this length's forwards,
// weights included (what torch.cuda.max_memory_allocated reports on the transformers side);
// -1 on the CPU or where LibTorch has no CUDA. logits: "all" because Transformer::forward
// returns logits at every position (it has no last-position-only mode). error: "" or why this
// length failed (out of memory, ...); the next length still runs.
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#if HEADSCOPE_BENCH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#endif
#include <torch/cuda.h>

#include "bench/bench_main.h"
#include "bench/median.h"
#include "cli/cli_args.h"
#include "core/checkpoint/model_config.h"
#include "core/model/random_weights.h"
#include "core/model/transformer.h"

namespace headscope {
namespace {

struct BenchArgs {
  std::string config_dir;
  std::string device = "cpu";
  std::string dtype = "auto";
  int64_t layers = 0;  // 0: the config's own
  int64_t repeats = 5;
  int64_t warmup = 1;
  std::vector<int64_t> lengths;
};

// Seed of the random weights, the one `headscope record --random-weights` uses.
constexpr uint64_t kWeightsSeed = 0;

const char* dtype_label(torch::ScalarType dtype) {
  switch (dtype) {
    case torch::kBFloat16:
      return "bf16";
    case torch::kFloat16:
      return "f16";
    default:
      return "f32";
  }
}

std::string json_escape(const std::string& text) {
  std::string out;
  for (const char ch : text) {
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (static_cast<unsigned char>(ch) < 0x20) {
      out += ' ';  // newlines and tabs of multi-line c10 messages
    } else {
      out += ch;
    }
  }
  return out;
}

// Peak memory of the CUDA caching allocator, reset per length.
class PeakMemory {
 public:
  explicit PeakMemory(torch::Device device) : cuda_(device.is_cuda()) {}

  void reset() const {
#if HEADSCOPE_BENCH_CUDA
    if (!cuda_) return;
    c10::cuda::CUDACachingAllocator::emptyCache();
    c10::cuda::CUDACachingAllocator::resetPeakStats(c10::cuda::current_device());
#endif
  }

  double gib() const {
#if HEADSCOPE_BENCH_CUDA
    if (!cuda_) return -1;
    const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(c10::cuda::current_device());
    // Index 0 is StatType::AGGREGATE (all pools), whose namespace moved between versions.
    return static_cast<double>(stats.allocated_bytes[0].peak) / (1024.0 * 1024.0 * 1024.0);
#else
    return -1;
#endif
  }

 private:
  bool cuda_;
};

void synchronize(torch::Device device) {
  if (device.is_cuda()) torch::cuda::synchronize();
}

struct Measurement {
  double ms = -1;
  double peak_gib = -1;
  std::string error;
};

Measurement measure(const Transformer& model, int64_t seq, const BenchArgs& args,
                    const PeakMemory& peak) {
  Measurement m;
  const torch::Device device = model.device();
  try {
    peak.reset();
    // Ids already on the device, as on the transformers side.
    auto gen_opts = torch::TensorOptions(torch::kInt64);
    torch::manual_seed(static_cast<uint64_t>(seq));
    auto tokens = torch::randint(0, model.config().vocab_size, {1, seq}, gen_opts).to(device);
    for (int64_t w = 0; w < args.warmup; ++w) model.forward(tokens);
    synchronize(device);
    std::vector<double> ms;
    for (int64_t r = 0; r < args.repeats; ++r) {
      const auto start = std::chrono::steady_clock::now();
      {
        auto logits = model.forward(tokens);
        synchronize(device);
      }
      ms.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
              .count());
    }
    m.ms = bench::median(ms);
    m.peak_gib = peak.gib();
  } catch (const std::exception& e) {  // c10::Error (out of memory, CUDA) or headscope::Error
    m.error = std::string(e.what()).substr(0, 300);
  }
  peak.reset();
  return m;
}

int run(const BenchArgs& args) {
  ModelConfig config = load_model_config(args.config_dir);
  if (args.layers > 0) config.n_layers = args.layers;
  const torch::Device device = cli::parse_device(args.device);
  // The checkpoint's dtype (float16 runs in float32 on the CPU) unless --dtype names one.
  const torch::ScalarType dtype = cli::parse_compute_dtype(args.dtype, device)
                                      .value_or(checkpoint_compute_dtype(config, device));
  const int64_t layers = config.n_layers;
  torch::NoGradGuard no_grad;
  auto weights = random_model_weights(config, kWeightsSeed, dtype, device);
  auto model = Transformer::from_weights(std::move(config), std::move(weights), args.config_dir);
  const PeakMemory peak(device);
  for (const int64_t seq : args.lengths) {
    const Measurement m = measure(*model, seq, args, peak);
    std::printf(
        "{\"T\": %lld, \"layers\": %lld, \"device\": \"%s\", \"dtype\": \"%s\", "
        "\"headscope_ms\": %.3f, \"peak_gib\": %.3f, \"logits\": \"all\", \"error\": \"%s\"}\n",
        static_cast<long long>(seq), static_cast<long long>(layers),
        device.is_cuda() ? "cuda" : "cpu", dtype_label(dtype), m.ms, m.peak_gib,
        json_escape(m.error).c_str());
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace
}  // namespace headscope

int main(int argc, char** argv) {
  using headscope::cli::integer_in;
  headscope::BenchArgs args;
  CLI::App app{"headscope's plain forward on random weights of a config's shape", "forward_bench"};
  app.add_option("CONFIG_DIR", args.config_dir, "Directory with a config.json")
      ->required()
      ->check(CLI::ExistingDirectory);
  app.add_option("T", args.lengths, "Sequence lengths, one JSON line each")
      ->required()
      ->check(integer_in(1, headscope::cli::kMaxTokens));
  headscope::bench::add_device_option(app, args.device);
  app.add_option("--dtype", args.dtype, "auto (the checkpoint's), f32, bf16, f16")
      ->capture_default_str();
  app.add_option("--layers", args.layers, "Layers (0: the config's)")
      ->check(integer_in(0, 1024))
      ->capture_default_str();
  headscope::bench::add_repeat_options(app, args.repeats, &args.warmup);
  return headscope::bench::bench_main(app, argc, argv, [&] { return headscope::run(args); });
}
