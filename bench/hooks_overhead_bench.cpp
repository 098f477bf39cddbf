// What attaching hooks costs a forward pass: the same random-weights Llama-shaped model run
//   no_hooks        Transformer::forward without a sink
//   idle            through a HookedModel with no hook attached
//   capturing       through a HookedModel with one hook keeping every blocks.*.hook_resid_post
//   run_with_cache  HookedModel::run_with_cache of the same hook (attached and removed per call)
// side by side: the modes take turns within each repeat, starting at another one each time, so
// drift of a shared machine spreads over all of them. On a loaded machine compare min_ms.
//   hooks_overhead_bench [--device cpu|cuda] [--layers N] [--length T] [--d-model N]
//                        [--threads N] [--repeats N] [--warmup N]
// One JSON object on stdout: the shape, and per mode the median, min and max milliseconds of
// one forward (each ends with a device synchronisation), plus idle_over_no_hooks, the ratio of
// the medians. --threads sets LibTorch's intra-op threads (default 1: the overhead measured is
// host-side work, and one thread keeps runs on a shared machine comparable).
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "bench/bench_main.h"
#include "bench/median.h"
#include "cli/cli_args.h"
#include "core/base/error.h"
#include "core/checkpoint/model_config.h"
#include "core/model/random_weights.h"
#include "core/model/transformer.h"
#include "hooks/hooked_model.h"

namespace headscope {
namespace {

struct BenchArgs {
  std::string device = "cpu";
  int64_t layers = 4;
  int64_t length = 512;
  int64_t d_model = 256;
  int64_t threads = 1;
  int64_t repeats = 30;
  int64_t warmup = 3;
};

constexpr uint64_t kWeightsSeed = 0;
constexpr int64_t kHeadDim = 64;
constexpr int64_t kVocab = 4096;
constexpr char kCaptured[] = "blocks.*.hook_resid_post";

ModelConfig llama_shape(const BenchArgs& args) {
  ModelConfig c;
  c.family = Family::kLlama;
  c.model_type = "llama";
  c.n_layers = args.layers;
  c.d_model = args.d_model;
  c.d_head = kHeadDim;
  c.n_heads = args.d_model / kHeadDim;
  c.n_kv_heads = c.n_heads;
  c.d_mlp = 4 * args.d_model;
  c.vocab_size = kVocab;
  c.max_positions = std::max<int64_t>(args.length, 2048);
  return c;
}

struct Timings {
  std::string mode;
  std::function<void()> run;
  std::vector<double> ms;
};

int run(const BenchArgs& args) {
  if (args.d_model % kHeadDim != 0) {
    throw InvalidInput("--d-model: expected a multiple of " + std::to_string(kHeadDim) + ", got " +
                       std::to_string(args.d_model));
  }
  torch::set_num_threads(static_cast<int>(args.threads));
  const torch::Device device = cli::parse_device(args.device);
  const auto sync = [device] {
    if (device.is_cuda()) torch::cuda::synchronize();
  };
  torch::NoGradGuard no_grad;
  ModelConfig config = llama_shape(args);
  auto weights = random_model_weights(config, kWeightsSeed, torch::kFloat32, device);
  std::shared_ptr<const Transformer> model =
      Transformer::from_weights(std::move(config), std::move(weights));
  torch::manual_seed(1);
  const auto tokens = torch::randint(0, kVocab, {1, args.length}, torch::kInt64);

  HookedModel idle(model);
  HookedModel capturing(model);
  std::vector<torch::Tensor> kept;
  capturing.add_hook(kCaptured, [&kept](const torch::Tensor& value, const HookContext&) {
    kept.push_back(value);
    return std::nullopt;
  });
  HookedModel cached(model);

  std::vector<Timings> modes = {
      {"no_hooks", [&] { model->forward(tokens); }, {}},
      {"idle", [&] { idle.forward(tokens); }, {}},
      {"capturing",
       [&] {
         kept.clear();
         capturing.forward(tokens);
       },
       {}},
      {"run_with_cache",
       [&] {
         ActivationCache cache;
         cached.run_with_cache(tokens, {kCaptured}, cache);
       },
       {}},
  };
  for (int64_t w = 0; w < args.warmup; ++w) {
    for (auto& m : modes) m.run();
  }
  sync();
  for (int64_t r = 0; r < args.repeats; ++r) {
    // Each repeat starts at another mode, so none always follows the same one.
    for (size_t i = 0; i < modes.size(); ++i) {
      auto& m = modes[(static_cast<size_t>(r) + i) % modes.size()];
      const auto start = std::chrono::steady_clock::now();
      m.run();
      sync();
      m.ms.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
              .count());
    }
  }

  std::printf(
      "{\"layers\": %lld, \"T\": %lld, \"d_model\": %lld, \"device\": \"%s\", \"threads\": %lld, "
      "\"repeats\": %lld",
      static_cast<long long>(args.layers), static_cast<long long>(args.length),
      static_cast<long long>(args.d_model), device.is_cuda() ? "cuda" : "cpu",
      static_cast<long long>(args.threads), static_cast<long long>(args.repeats));
  for (const auto& m : modes) {
    std::printf(", \"%s\": {\"median_ms\": %.3f, \"min_ms\": %.3f, \"max_ms\": %.3f}",
                m.mode.c_str(), bench::median(m.ms), *std::min_element(m.ms.begin(), m.ms.end()),
                *std::max_element(m.ms.begin(), m.ms.end()));
  }
  std::printf(", \"idle_over_no_hooks\": %.4f}\n",
              bench::median(modes[1].ms) / bench::median(modes[0].ms));
  return 0;
}

}  // namespace
}  // namespace headscope

int main(int argc, char** argv) {
  using headscope::cli::integer_in;
  headscope::BenchArgs args;
  CLI::App app{"What attaching hooks costs a forward pass", "hooks_overhead_bench"};
  headscope::bench::add_device_option(app, args.device);
  app.add_option("--layers", args.layers)->check(integer_in(1, 1024))->capture_default_str();
  app.add_option("--length", args.length, "Tokens per forward")
      ->check(integer_in(1, headscope::cli::kMaxTokens))
      ->capture_default_str();
  app.add_option("--d-model", args.d_model, "A multiple of the head dimension, 64")
      ->check(integer_in(headscope::kHeadDim, 65536))
      ->capture_default_str();
  app.add_option("--threads", args.threads, "LibTorch intra-op threads")
      ->check(integer_in(1, 1024))
      ->capture_default_str();
  headscope::bench::add_repeat_options(app, args.repeats, &args.warmup);
  return headscope::bench::bench_main(app, argc, argv, [&] { return headscope::run(args); });
}
