// headscope's plain forward pass (no hooks, nothing recorded) on a model of a config.json's shape
// with random weights: the headscope side of bench/forward_transformers.py (issue 6).
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
#include <iostream>
#include <string>
#include <vector>

#if HEADSCOPE_BENCH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#endif
#include <torch/cuda.h>

#include "core/base/error.h"
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
  int repeats = 5;
  int warmup = 1;
  std::vector<int64_t> lengths;
};

// Seed of the random weights, the one `headscope record --random-weights` uses.
constexpr uint64_t kWeightsSeed = 0;

const char* const kUsage =
    "usage: forward_bench CONFIG_DIR [--device cpu|cuda] [--dtype auto|bf16|f32|f16] "
    "[--layers N] [--repeats N] [--warmup N] T...";

int64_t parse_int(const std::string& text, const std::string& what, int64_t min) {
  size_t used = 0;
  int64_t value = 0;
  try {
    value = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || text.empty() || value < min) {
    throw InvalidInput(what + ": expected an integer >= " + std::to_string(min) + ", got '" + text +
                       "'");
  }
  return value;
}

BenchArgs parse_args(int argc, char** argv) {
  BenchArgs args;
  for (int a = 1; a < argc; ++a) {
    const std::string arg = argv[a];
    const bool has_value = a + 1 < argc;
    if (arg.rfind("--", 0) == 0 && !has_value) throw InvalidInput(arg + ": needs a value");
    if (arg == "--device") {
      args.device = argv[++a];
    } else if (arg == "--dtype") {
      args.dtype = argv[++a];
    } else if (arg == "--layers") {
      args.layers = parse_int(argv[++a], "--layers", 1);
    } else if (arg == "--repeats") {
      args.repeats = static_cast<int>(parse_int(argv[++a], "--repeats", 1));
    } else if (arg == "--warmup") {
      args.warmup = static_cast<int>(parse_int(argv[++a], "--warmup", 0));
    } else if (arg.rfind("--", 0) == 0) {
      throw InvalidInput("unknown option " + arg);
    } else if (args.config_dir.empty()) {
      args.config_dir = arg;
    } else {
      args.lengths.push_back(parse_int(arg, "length", 1));
    }
  }
  if (args.config_dir.empty() || args.lengths.empty()) {
    throw InvalidInput(std::string("give a config directory and at least one length; ") + kUsage);
  }
  return args;
}

torch::Device parse_device(const std::string& text) {
  if (text == "cpu") return torch::kCPU;
  if (text == "cuda") {
    if (!torch::cuda::is_available()) {
      throw InvalidInput("--device cuda: this LibTorch sees no CUDA device");
    }
    return torch::kCUDA;
  }
  throw InvalidInput("--device: expected cpu or cuda, got '" + text + "'");
}

// The checkpoint's dtype (float16 runs in float32 on the CPU) unless --dtype names one.
torch::ScalarType parse_dtype(const std::string& text, const ModelConfig& config,
                              torch::Device device) {
  if (text == "auto") return checkpoint_compute_dtype(config, device);
  if (text == "bf16") return torch::kBFloat16;
  if (text == "f32") return torch::kFloat32;
  if (text == "f16") return torch::kFloat16;
  throw InvalidInput("--dtype: expected auto, bf16, f32 or f16, got '" + text + "'");
}

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

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
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
    for (int w = 0; w < args.warmup; ++w) model.forward(tokens);
    synchronize(device);
    std::vector<double> ms;
    for (int r = 0; r < args.repeats; ++r) {
      const auto start = std::chrono::steady_clock::now();
      {
        auto logits = model.forward(tokens);
        synchronize(device);
      }
      ms.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
              .count());
    }
    m.ms = median(ms);
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
  const torch::Device device = parse_device(args.device);
  const torch::ScalarType dtype = parse_dtype(args.dtype, config, device);
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
  try {
    return headscope::run(headscope::parse_args(argc, argv));
  } catch (const std::exception& e) {
    std::cerr << "forward_bench: " << e.what() << "\n";
  }
  return 1;
}
