// Per-head sparse attention on one GPU against fused dense attention, side by side in one run.
// For each length T (causal, bf16, B = 1, H heads = H kv heads, head dim D) and each config,
// median milliseconds of:
//   sdpa   PyTorch's fused scaled_dot_product_attention forward (dense causal, the floor)
//   ours   sparse_attention_cuda (block selection included) at the config's kept fraction
// Configs: all heads full; all heads block-sparse (block 128, top-k blocks sized for kept
// fractions 10/25/50%); all heads streaming (sink 128, window sized likewise); mixed (a quarter
// of the heads each full and streaming, half block-sparse at 10%). target_ms is the
// bound 1.3 x kept x sdpa + 0.1 ms. One JSON object per line on stdout; a table on stderr.
//   sparse_attention_bench [--heads 32] [--dim 128] [--reps 5] T...
#include <torch/cuda.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "bench/bench_main.h"
#include "bench/gpu_bench_args.h"
#include "bench/gpu_timing.h"
#include "core/model/torch_compat.h"
#include "kernels/sparse_attention_backends.h"

namespace {

using headscope::SparseHeadConfig;
using headscope::SparseKind;

constexpr int64_t kBlock = 128;
constexpr int64_t kSink = 128;

using headscope::bench::time_gpu;
using headscope::bench::Timing;

// Kept entries of one head over the causal T(T+1)/2, from the config alone (block-sparse heads
// keep min(topk, a) whole earlier blocks plus their own block causally, whichever blocks win).
double kept_fraction(const SparseHeadConfig& c, int64_t seq) {
  double kept = 0;
  for (int64_t i = 0; i < seq; ++i) {
    switch (c.kind) {
      case SparseKind::kFull:
        kept += double(i + 1);
        break;
      case SparseKind::kStreaming:
        kept += double(std::min(i + 1, c.window) +
                       std::min(c.sink, std::max<int64_t>(0, i + 1 - c.window)));
        break;
      case SparseKind::kBlockSparse: {
        const int64_t a = i / c.block_size;
        kept += double(std::min(c.topk_blocks, a) * c.block_size + i - a * c.block_size + 1);
        break;
      }
    }
  }
  return kept / (double(seq) * double(seq + 1) / 2);
}

double mean_kept(const std::vector<SparseHeadConfig>& heads, int64_t seq) {
  double sum = 0;
  for (const auto& h : heads) sum += kept_fraction(h, seq);
  return sum / double(heads.size());
}

SparseHeadConfig block_for(double fraction, int64_t seq) {
  SparseHeadConfig c;
  c.kind = SparseKind::kBlockSparse, c.block_size = kBlock;
  // Smallest top-k whose kept fraction reaches the goal.
  for (c.topk_blocks = 0; kept_fraction(c, seq) < fraction; ++c.topk_blocks) {
  }
  return c;
}

SparseHeadConfig streaming_for(double fraction, int64_t seq) {
  SparseHeadConfig c;
  c.kind = SparseKind::kStreaming, c.sink = kSink;
  // Bisection on the window: the kept fraction grows with it.
  int64_t lo = 1, hi = seq;
  while (lo < hi) {
    c.window = (lo + hi) / 2;
    if (kept_fraction(c, seq) < fraction)
      lo = c.window + 1;
    else
      hi = c.window;
  }
  c.window = lo;
  return c;
}

struct Config {
  std::string name;
  std::vector<SparseHeadConfig> heads;
};

std::vector<Config> configs(int64_t heads, int64_t seq) {
  std::vector<Config> out;
  out.push_back({"full", std::vector<SparseHeadConfig>(heads)});
  for (const double f : {0.1, 0.25, 0.5}) {
    const std::string pct = std::to_string(int(std::lround(f * 100)));
    out.push_back({"block" + pct, std::vector<SparseHeadConfig>(heads, block_for(f, seq))});
    out.push_back({"stream" + pct, std::vector<SparseHeadConfig>(heads, streaming_for(f, seq))});
  }
  Config mixed{"mixed", {}};
  for (int64_t h = 0; h < heads; ++h) {
    mixed.heads.push_back(h % 4 == 0   ? SparseHeadConfig{}
                          : h % 4 == 1 ? streaming_for(0.1, seq)
                                       : block_for(0.1, seq));
  }
  out.push_back(mixed);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  headscope::bench::GpuBenchArgs args;
  CLI::App app{"Per-head sparse attention against fused attention (needs a GPU)",
               "sparse_attention_bench"};
  headscope::bench::add_gpu_bench_options(app, args);
  return headscope::bench::bench_main(app, argc, argv, [&] {
    headscope::bench::require_cuda();
    const int64_t heads = args.heads, dim = args.dim;
    const int reps = args.reps;
    torch::NoGradGuard no_grad;
    const double scale = 1.0 / std::sqrt(static_cast<double>(dim));
    std::fprintf(stderr, "%7s %-8s %6s %9s %9s %9s %8s %9s\n", "T", "config", "kept", "sdpa_ms",
                 "ours_ms", "target_ms", "ours/tgt", "full_TF/s");
    for (const int64_t seq : args.lengths) {
      auto opts = torch::TensorOptions(torch::kBFloat16).device(torch::kCUDA);
      auto q = torch::randn({1, heads, seq, dim}, opts);
      auto k = torch::randn({1, heads, seq, dim}, opts);
      auto v = torch::randn({1, heads, seq, dim}, opts);
      const Timing sdpa =
          time_gpu([&] { headscope::compat::fused_attention(q, k, v, {}, scale); }, reps);
      const double flops = 4.0 * heads * double(seq) * double(seq) * dim / 2;  // causal forward
      for (const auto& config : configs(heads, seq)) {
        const Timing ours =
            time_gpu([&] { headscope::sparse_attention_cuda(q, k, v, config.heads, scale); }, reps);
        const double kept = mean_kept(config.heads, seq);
        const double target = 1.3 * kept * sdpa.ms + 0.1;
        const double tflops = ours.ms > 0 ? kept * flops / ours.ms / 1e9 : 0.0;
        std::printf(
            "{\"T\": %lld, \"heads\": %lld, \"dim\": %lld, \"config\": \"%s\", \"kept\": %.4f, "
            "\"block_size\": %lld, \"topk_blocks\": %lld, \"sink\": %lld, \"window\": %lld, "
            "\"sdpa_ms\": %.4f, \"ours_ms\": %.4f, \"target_ms\": %.4f, \"ours_tflops\": %.1f, "
            "\"error\": \"%s%s\"}\n",
            static_cast<long long>(seq), static_cast<long long>(heads), static_cast<long long>(dim),
            config.name.c_str(), kept, static_cast<long long>(config.heads.back().block_size),
            static_cast<long long>(config.heads.back().topk_blocks),
            static_cast<long long>(config.heads[1 % heads].sink),
            static_cast<long long>(config.heads[1 % heads].window), sdpa.ms, ours.ms, target,
            tflops, sdpa.error.c_str(), ours.error.c_str());
        std::fflush(stdout);
        std::fprintf(stderr, "%7lld %-8s %6.3f %9.3f %9.3f %9.3f %8.2f %9.1f\n",
                     static_cast<long long>(seq), config.name.c_str(), kept, sdpa.ms, ours.ms,
                     target, ours.ms / target, sdpa.ms > 0 ? flops / sdpa.ms / 1e9 : 0.0);
      }
    }
    return 0;
  });
}
