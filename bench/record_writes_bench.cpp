// What writing attention statistics costs a recording (issue 17), end to end on the CPU:
// `record --random-weights` of a small Llama-shaped model (GQA, rotary, SwiGLU; the shape below,
// written as a config.json by this program) at a few thousand tokens, three ways side by side:
//   none         --attention none: the forward pass and the tokens
//   sync         --attention stats, each layer's statistics compressed and written before the
//                forward pass goes on (what record did before)
//   overlapped   --attention stats, compressed in the background while the next layers compute
//                and written at the next layer's hook (core/store/chunk_write_queue.h; record's
//                default)
// Each timing covers opening the file, the forward pass, the writes, commit and closing; the
// three ways take turns within each repeat, so load from other work on the machine hits them
// alike.
//   record_writes_bench T... [--layers N] [--heads H] [--topk K] [--repeats N] [--dir DIR]
// One JSON line per T: the shape, compression threads, the median seconds of each way, the
// statistics' cost over none, and the file's size.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <ATen/Parallel.h>
#include <CLI/CLI.hpp>

#include "bench/bench_main.h"
#include "bench/median.h"
#include "core/base/error.h"
#include "core/checkpoint/model_config.h"
#include "core/model/random_weights.h"
#include "core/model/transformer.h"
#include "core/store/chunk_compression.h"
#include "hooks/activation_recorder.h"

namespace headscope {
namespace {

struct BenchArgs {
  std::vector<int64_t> lengths;
  int64_t layers = 8;
  int64_t heads = 8;
  int64_t topk = AttentionStatsOptions().topk;
  int64_t repeats = 3;
  std::string dir = std::filesystem::temp_directory_path().string();
};

// Llama's layer at a CPU-sized width: head_dim 64, 4 query heads per kv head, MLP 3x d_model.
void write_config(const std::string& dir, const BenchArgs& args) {
  const int64_t d_head = 64, d_model = args.heads * d_head;
  std::ofstream out(dir + "/config.json");
  out << "{\"architectures\": [\"LlamaForCausalLM\"], \"model_type\": \"llama\", "
      << "\"hidden_size\": " << d_model << ", \"intermediate_size\": " << 3 * d_model
      << ", \"num_attention_heads\": " << args.heads
      << ", \"num_key_value_heads\": " << std::max<int64_t>(1, args.heads / 4)
      << ", \"head_dim\": " << d_head << ", \"num_hidden_layers\": " << args.layers
      << ", \"vocab_size\": 32000, \"rms_norm_eps\": 1e-5, \"rope_theta\": 500000.0, "
      << "\"max_position_embeddings\": 131072, \"hidden_act\": \"silu\", "
      << "\"tie_word_embeddings\": false, \"torch_dtype\": \"float32\", "
      << "\"attention_bias\": false, \"mlp_bias\": false}\n";
  if (!out) throw IoError(dir + "/config.json: cannot write");
}

enum class Way { kNone, kSync, kOverlapped };

// Seconds to record `tokens` one way into a new file at `path`, and the file's size.
std::pair<double, double> record_once(HookedModel& hooked, const std::vector<int64_t>& tokens,
                                      Way way, int64_t topk, const std::string& path) {
  const auto start = std::chrono::steady_clock::now();
  {
    auto writer = RecordingWriter::open(path, summarize(hooked.model()), OutputMode::kNew);
    auto run = writer.begin_run();
    run.write_tokens({tokens.begin(), tokens.end()});
    record_activations(hooked, tokens,
                       RecordOptions()
                           .with_attention(way == Way::kNone ? AttentionRecording::kNone
                                                             : AttentionRecording::kStats)
                           .with_stats(AttentionStatsOptions().with_topk(topk))
                           .with_overlap_writes(way == Way::kOverlapped),
                       run);
    run.commit();
    writer.finish();
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double bytes = static_cast<double>(std::filesystem::file_size(path));
  std::filesystem::remove(path);
  return {seconds, bytes};
}

int run(const BenchArgs& args) {
  const std::string config_dir = args.dir + "/record_writes_bench_model";
  std::filesystem::create_directories(config_dir);
  write_config(config_dir, args);
  ModelConfig config = load_model_config(config_dir);
  torch::NoGradGuard no_grad;
  auto weights = random_model_weights(config, 0, torch::kFloat32, torch::kCPU);
  HookedModel hooked(Transformer::from_weights(std::move(config), std::move(weights), config_dir));
  const std::string path = args.dir + "/record_writes_bench.h5";
  std::filesystem::remove(path);
  for (const int64_t t : args.lengths) {
    std::mt19937 rng(static_cast<uint32_t>(t));
    std::uniform_int_distribution<int64_t> id(0, 31999);
    std::vector<int64_t> tokens(static_cast<size_t>(t));
    for (int64_t& token : tokens) token = id(rng);
    record_once(hooked, tokens, Way::kOverlapped, args.topk, path);  // warm-up
    std::vector<double> seconds[3];
    double stats_bytes = 0;
    for (int64_t r = 0; r < args.repeats; ++r) {
      for (const Way way : {Way::kNone, Way::kSync, Way::kOverlapped}) {
        const auto [s, bytes] = record_once(hooked, tokens, way, args.topk, path);
        seconds[static_cast<int>(way)].push_back(s);
        if (way != Way::kNone) stats_bytes = bytes;
      }
    }
    const double none = bench::median(seconds[0]), sync = bench::median(seconds[1]),
                 overlapped = bench::median(seconds[2]);
    std::printf(
        "{\"T\": %lld, \"layers\": %lld, \"heads\": %lld, \"kv_heads\": %lld, \"d_head\": 64, "
        "\"topk\": %lld, \"device\": \"cpu\", \"dtype\": \"f32\", \"torch_threads\": %d, "
        "\"compression_threads\": %u, \"repeats\": %lld, \"none_s\": %.3f, \"stats_sync_s\": "
        "%.3f, \"stats_overlapped_s\": %.3f, \"sync_over_none\": %.3f, "
        "\"overlapped_over_none\": %.3f, \"stats_file_mb\": %.2f}\n",
        static_cast<long long>(t), static_cast<long long>(args.layers),
        static_cast<long long>(args.heads),
        static_cast<long long>(std::max<int64_t>(1, args.heads / 4)),
        static_cast<long long>(args.topk), at::get_num_threads(), compression_threads(),
        static_cast<long long>(args.repeats), none, sync, overlapped, sync / none,
        overlapped / none, stats_bytes / 1e6);
    std::fflush(stdout);
  }
  std::filesystem::remove_all(config_dir);
  return 0;
}

}  // namespace
}  // namespace headscope

// Integer ranges by CLI11 itself: this benchmark links the recorder, not the whole CLI.
int main(int argc, char** argv) {
  using Range = CLI::Range;
  headscope::BenchArgs args;
  CLI::App app{"record --attention none / stats written synchronously / overlapped, on the CPU",
               "record_writes_bench"};
  app.add_option("T", args.lengths, "Sequence lengths, one JSON line each")
      ->required()
      ->check(Range(int64_t{1}, int64_t{1} << 24));
  app.add_option("--layers", args.layers, "Layers")->check(Range(1, 1024))->capture_default_str();
  app.add_option("--heads", args.heads, "Query heads (kv heads: a quarter)")
      ->check(Range(1, 256))
      ->capture_default_str();
  app.add_option("--topk", args.topk, "Top-k keys kept per query")
      ->check(Range(1, 4096))
      ->capture_default_str();
  app.add_option("--dir", args.dir, "Where the model's config and the recordings go")
      ->check(CLI::ExistingDirectory)
      ->capture_default_str();
  app.add_option("--repeats", args.repeats, "Timed runs of each way")
      ->check(Range(1, 1000))
      ->capture_default_str();
  return headscope::bench::bench_main(app, argc, argv, [&] { return headscope::run(args); });
}
