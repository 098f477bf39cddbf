// A full per-head activation-patching sweep of hook_z (denoise, logit difference) two ways, and
// EAP-IG, which estimates every head's (and edge's) effect from gradients:
//   batched  analyses/circuits activation_patching: the clean run cached once per pair, then
//            the corrupted input replicated in batches, each row patching another head
//   whole    batched with every row running the whole model (PatchingOptions::reuse_prefix
//            off): what the prefix reuse saves (prefix_reuse_speedup = whole / batched)
//   naive    the loop users write today: per pair and head, one forward pass of batch 1 with
//            hooks/head_interventions.h patch_head attached (the clean cache taken once per pair)
//   eap_ig   analyses/circuits edge_attribution, EAP-IG with --eap-steps steps over the graph
//            input -> heads/MLPs -> logits, scoring only (no faithfulness sweep); 0 skips it
// on a model directory with a task's pairs (default: the shipped zoo model on IOI), or with
// --random-weights on a random Llama-shaped model and random pairs (--llama3-8b: Llama-3-8B's
// shape, 32 layers x 32 heads, 8 key/value heads). --naive-pairs times the naive loop on that
// many pairs only and extrapolates to the whole set (0 skips it).
//   patching_bench [--model DIR --task T | --random-weights [--llama3-8b] [--layers N]
//                  [--heads N] [--kv-heads N] [--d-head N] [--d-mlp N] [--vocab N]]
//                  [--pairs N] [--length T] [--batch B] [--naive-pairs K] [--eap-steps S]
//                  [--repeats N] [--warmup N] [--device D] [--dtype T] [--threads N]
// One JSON object on stdout: the shape, and per mode the median seconds of a full sweep (wall
// clock, and the process's CPU time: on a shared machine the wall clock counts other
// processes' turns, CPU time does not) and the pairs (samples) per second; speedup = naive /
// batched (and naive / eap_ig), of CPU time on the CPU and of wall time on a GPU. Warm-up runs
// take the first pair only.
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <random>
#include <string>
#include <vector>

#include "analyses/circuits/activation_patching.h"
#include "analyses/circuits/edge_attribution.h"
#include "analyses/circuits/task_pairs.h"
#include "bench/bench_main.h"
#include "bench/median.h"
#include "cli/cli_args.h"
#include "core/base/error.h"
#include "core/model/random_weights.h"
#include "core/model/transformer.h"
#include "hooks/head_interventions.h"

namespace headscope {
namespace {

struct BenchArgs {
  std::string model = "zoo/models/needle-4x8";
  std::string task = "ioi";
  bool random_weights = false, llama3_8b = false;
  int64_t layers = 4, heads = 8, kv_heads = 8, d_head = 32, d_mlp = 1024, vocab = 4096;
  int64_t pairs = 20, length = 64, batch = 0, naive_pairs = -1, eap_steps = 5, repeats = 3,
          warmup = 1, threads = 0;
  std::string device = "cpu", dtype = "f32";
};

constexpr uint64_t kSeed = 0;

ModelConfig random_config(const BenchArgs& a) {
  ModelConfig c;
  c.family = Family::kLlama;
  c.model_type = "llama";
  c.n_layers = a.layers;
  c.n_heads = a.heads;
  c.n_kv_heads = a.kv_heads;
  c.d_head = a.d_head;
  c.d_model = a.heads * a.d_head;
  c.d_mlp = a.d_mlp;
  c.vocab_size = a.vocab;
  c.max_positions = std::max<int64_t>(a.length, 2048);
  return c;
}

std::vector<PatchingPair> random_pairs(const ModelConfig& c, int64_t count, int64_t length) {
  std::mt19937 rng(1);
  std::uniform_int_distribution<int32_t> token(0, static_cast<int32_t>(c.vocab_size - 1));
  std::vector<PatchingPair> pairs;
  for (int64_t i = 0; i < count; ++i) {
    PatchingPair p;
    for (int64_t t = 0; t < length; ++t) p.clean.push_back(token(rng));
    p.corrupted = p.clean;
    p.corrupted[static_cast<size_t>(length / 2)] = token(rng);
    p.answer = token(rng);
    p.distractor = (p.answer + 1) % static_cast<int32_t>(c.vocab_size);
    p.position = length - 1;
    p.source = "random pair " + std::to_string(i);
    pairs.push_back(p);
  }
  return pairs;
}

torch::Tensor row(const std::vector<int32_t>& ids) {
  return torch::tensor(std::vector<int64_t>(ids.begin(), ids.end()), torch::kInt64).view({1, -1});
}

// Seconds of CPU time this process has used (every thread).
double cpu_seconds() {
  return static_cast<double>(std::clock()) / CLOCKS_PER_SEC;
}

struct Elapsed {
  double wall = 0.0, cpu = 0.0;
};

// The naive loop over `count` pairs.
Elapsed naive_sweep(HookedModel& model, const std::vector<PatchingPair>& pairs, int64_t count) {
  torch::NoGradGuard no_grad;
  const ModelConfig& c = model.model().config();
  const auto start = std::chrono::steady_clock::now();
  const double cpu_start = cpu_seconds();
  double checksum = 0.0;
  for (int64_t p = 0; p < count; ++p) {
    const PatchingPair& pair = pairs[static_cast<size_t>(p)];
    ActivationCache cache;
    model.run_with_cache(row(pair.clean), {"blocks.*.attn.hook_z"}, cache, false,
                         LogitPositions::kLast);
    for (int64_t l = 0; l < c.n_layers; ++l) {
      const torch::Tensor source = cache.at("blocks." + std::to_string(l) + ".attn.hook_z");
      for (int64_t h = 0; h < c.n_heads; ++h) {
        const auto ids = apply_interventions(model, {patch_head(c, {l, h}, source)});
        const torch::Tensor logits =
            model.forward(row(pair.corrupted), nullptr, LogitPositions::kLast)[0][0];
        checksum += (logits[pair.answer] - logits[pair.distractor]).item<double>();
        for (const auto id : ids) model.remove_hook(id);
      }
    }
  }
  HS_ASSERT(std::isfinite(checksum));
  return {std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
          cpu_seconds() - cpu_start};
}

int run(const BenchArgs& args) {
  if (args.threads > 0) torch::set_num_threads(static_cast<int>(args.threads));
  const torch::Device device = cli::parse_device(args.device);
  const torch::ScalarType dtype =
      cli::parse_compute_dtype(args.dtype, device).value_or(torch::kFloat32);
  std::shared_ptr<const Transformer> model;
  std::vector<PatchingPair> pairs;
  if (args.random_weights) {
    BenchArgs shape = args;
    if (args.llama3_8b) {
      shape.layers = 32, shape.heads = 32, shape.kv_heads = 8, shape.d_head = 128;
      shape.d_mlp = 14336, shape.vocab = 128256;
    }
    if (shape.heads % shape.kv_heads != 0) throw InvalidInput("--kv-heads: must divide --heads");
    ModelConfig config = random_config(shape);
    auto weights = random_model_weights(config, kSeed, dtype, device);
    model = Transformer::from_weights(config, std::move(weights));
    pairs = random_pairs(model->config(), args.pairs, args.length);
  } else {
    model = Transformer::load(args.model, ModelLoadOptions().with_dtype(dtype).with_device(device));
    pairs = task_pairs(model->config(), args.task, args.pairs, args.length, kSeed);
  }
  const ModelConfig& c = model->config();
  HookedModel hooked(model);
  const PatchingOptions options = PatchingOptions().with_batch_size(args.batch).with_quiet(true);

  for (int64_t w = 0; w < args.warmup; ++w) activation_patching(hooked, {pairs.front()}, options);
  std::vector<double> batched, batched_cpu;
  int64_t batch_used = 0;
  for (int64_t r = 0; r < args.repeats; ++r) {
    const double cpu_start = cpu_seconds();
    const PatchingResult result = activation_patching(hooked, pairs, options);
    batched_cpu.push_back(cpu_seconds() - cpu_start);
    batched.push_back(result.seconds);
    batch_used = result.batch_size;
  }
  const double batched_s = bench::median(batched);
  const double batched_cpu_s = bench::median(batched_cpu);
  // The same sweep with every row running the whole model (before the prefix reuse).
  std::vector<double> whole, whole_cpu;
  const PatchingOptions whole_options = PatchingOptions(options).with_reuse_prefix(false);
  for (int64_t r = 0; r < args.repeats; ++r) {
    const double cpu_start = cpu_seconds();
    whole.push_back(activation_patching(hooked, pairs, whole_options).seconds);
    whole_cpu.push_back(cpu_seconds() - cpu_start);
  }
  const double whole_s = bench::median(whole), whole_cpu_s = bench::median(whole_cpu);
  const auto n = static_cast<double>(pairs.size());
  int64_t length_sum = 0;
  for (const PatchingPair& p : pairs) length_sum += static_cast<int64_t>(p.clean.size());

  std::printf(
      "{\"model\": \"%s\", \"layers\": %lld, \"heads\": %lld, \"kv_heads\": %lld, "
      "\"d_model\": %lld, \"pairs\": %zu, \"mean_length\": %.1f, \"device\": \"%s\", "
      "\"dtype\": \"%s\", \"threads\": %d, \"hook\": \"z\", \"per\": \"head\", "
      "\"batched\": {\"batch\": %lld, \"repeats\": %lld, \"sweep_s\": %.4f, "
      "\"min_s\": %.4f, \"cpu_s\": %.4f, \"samples_per_s\": %.3f, "
      "\"samples_per_cpu_s\": %.3f}, \"whole_model_rows\": {\"sweep_s\": %.4f, "
      "\"cpu_s\": %.4f}, \"prefix_reuse_speedup\": %.2f",
      args.random_weights ? (args.llama3_8b ? "random llama3-8b shape" : "random")
                          : args.model.c_str(),
      static_cast<long long>(c.n_layers), static_cast<long long>(c.n_heads),
      static_cast<long long>(c.n_kv_heads), static_cast<long long>(c.d_model), pairs.size(),
      static_cast<double>(length_sum) / n, device.str().c_str(), args.dtype.c_str(),
      torch::get_num_threads(), static_cast<long long>(batch_used),
      static_cast<long long>(args.repeats), batched_s,
      *std::min_element(batched.begin(), batched.end()), batched_cpu_s, n / batched_s,
      n / batched_cpu_s, whole_s, whole_cpu_s,
      device.is_cuda() ? whole_s / batched_s : whole_cpu_s / batched_cpu_s);
  const int64_t naive_pairs =
      args.naive_pairs < 0
          ? static_cast<int64_t>(pairs.size())
          : std::min<int64_t>(args.naive_pairs, static_cast<int64_t>(pairs.size()));
  double naive_s = 0.0;  // extrapolated to every pair: CPU time on the CPU, wall time on a GPU
  if (naive_pairs > 0) {
    for (int64_t w = 0; w < args.warmup; ++w) naive_sweep(hooked, pairs, 1);
    const Elapsed e = naive_sweep(hooked, pairs, naive_pairs);
    const double scale = n / static_cast<double>(naive_pairs);
    const double wall = e.wall * scale, cpu = e.cpu * scale;
    std::printf(
        ", \"naive\": {\"pairs_timed\": %lld, \"sweep_s\": %.4f, \"cpu_s\": %.4f, "
        "\"samples_per_s\": %.3f, \"samples_per_cpu_s\": %.3f}, \"speedup\": %.2f",
        static_cast<long long>(naive_pairs), wall, cpu, n / wall, n / cpu,
        device.is_cuda() ? wall / batched_s : cpu / batched_cpu_s);
    naive_s = device.is_cuda() ? wall : cpu;
  }
  if (args.eap_steps > 0) {
    const EapGraph graph(c);
    const EapOptions eap = EapOptions()
                               .with_method(EapMethod::kEapIg)
                               .with_steps(args.eap_steps)
                               .with_top_n(1)
                               .with_faithfulness(false)
                               .with_quiet(true);
    for (int64_t w = 0; w < args.warmup; ++w) edge_attribution(hooked, graph, {pairs.front()}, eap);
    std::vector<double> wall, cpu;
    EapResult result;
    for (int64_t r = 0; r < args.repeats; ++r) {
      const double cpu_start = cpu_seconds();
      result = edge_attribution(hooked, graph, pairs, eap);
      cpu.push_back(cpu_seconds() - cpu_start);
      wall.push_back(result.seconds);
    }
    const double wall_s = bench::median(wall), cpu_s = bench::median(cpu);
    std::printf(
        ", \"eap_ig\": {\"steps\": %lld, \"edges\": %lld, \"batch\": %lld, "
        "\"forward_passes\": %lld, \"backward_passes\": %lld, \"sweep_s\": %.4f, "
        "\"cpu_s\": %.4f, \"samples_per_s\": %.3f, \"samples_per_cpu_s\": %.3f}",
        static_cast<long long>(args.eap_steps), static_cast<long long>(graph.edge_count()),
        static_cast<long long>(result.batch_size), static_cast<long long>(result.forward_passes),
        static_cast<long long>(result.backward_passes), wall_s, cpu_s, n / wall_s, n / cpu_s);
    const double eap_s = device.is_cuda() ? wall_s : cpu_s;
    std::printf(", \"eap_ig_speedup_vs_batched\": %.2f",
                (device.is_cuda() ? batched_s : batched_cpu_s) / eap_s);
    if (naive_s > 0.0) std::printf(", \"eap_ig_speedup_vs_naive\": %.2f", naive_s / eap_s);
  }
  std::printf("}\n");
  return 0;
}

}  // namespace
}  // namespace headscope

int main(int argc, char** argv) {
  using headscope::cli::integer_in;
  headscope::BenchArgs args;
  CLI::App app{"Batched activation patching against the one-forward-per-head loop",
               "patching_bench"};
  app.add_option("--model", args.model, "Model directory")->capture_default_str();
  app.add_option("--task", args.task, "Task of the pairs")->capture_default_str();
  app.add_flag("--random-weights", args.random_weights,
               "A random Llama-shaped model, random pairs");
  app.add_flag("--llama3-8b", args.llama3_8b, "--random-weights at Llama-3-8B's shape");
  app.add_option("--layers", args.layers)->check(integer_in(1, 1024))->capture_default_str();
  app.add_option("--heads", args.heads)->check(integer_in(1, 1024))->capture_default_str();
  app.add_option("--kv-heads", args.kv_heads)->check(integer_in(1, 1024))->capture_default_str();
  app.add_option("--d-head", args.d_head)->check(integer_in(2, 1024))->capture_default_str();
  app.add_option("--d-mlp", args.d_mlp)->check(integer_in(1, 1 << 20))->capture_default_str();
  app.add_option("--vocab", args.vocab)->check(integer_in(2, 1 << 24))->capture_default_str();
  app.add_option("--pairs", args.pairs)->check(integer_in(1, 100000))->capture_default_str();
  app.add_option("--length", args.length, "Tokens per sample (niah, induction; random pairs)")
      ->check(integer_in(2, headscope::cli::kMaxTokens))
      ->capture_default_str();
  app.add_option("--batch", args.batch, "Rows per forward pass [default: by memory]")
      ->check(integer_in(1, headscope::cli::kMaxBatch));
  app.add_option("--naive-pairs", args.naive_pairs,
                 "Pairs the naive loop is timed on [default: all; 0 skips it]")
      ->check(integer_in(0, 100000));
  app.add_option("--eap-steps", args.eap_steps, "EAP-IG's interpolation steps (0 skips EAP-IG)")
      ->check(integer_in(0, 1000))
      ->capture_default_str();
  headscope::bench::add_repeat_options(app, args.repeats, &args.warmup);
  headscope::bench::add_device_option(app, args.device);
  app.add_option("--dtype", args.dtype, "f32, bf16 or f16")->capture_default_str();
  app.add_option("--threads", args.threads, "LibTorch intra-op threads [default: LibTorch's]")
      ->check(integer_in(1, 1024));
  return headscope::bench::bench_main(app, argc, argv, [&] { return headscope::run(args); });
}
