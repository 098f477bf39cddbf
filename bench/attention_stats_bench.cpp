// Attention statistics against fused attention on one GPU, side by side in one run.
// For each length T (causal, bf16, B = 1, H heads, head dim D), median milliseconds of:
//   sdpa        PyTorch's fused scaled_dot_product_attention forward (the floor)
//   stats_pass1 our statistics without block mass (one online pass), top-8 keys per query
//   pass1_top1  the same with top-1 only (the argmax): what the top-k lists cost
//   stats_all   every statistic (both passes)
//   one_pass    every statistic in one pass, given the rows' normalisers (the fused
//               attention's log-sum-exp): what recording adds to a forward pass that hands
//               them over
//   fused       the fused attention with its normalisers plus the one pass
//               (attention_with_stats): a recorded layer's attention, against sdpa alone
//   materialise softmax(q kᵀ) as a [H, T, T] bf16 map (float32 softmax), until out of memory.
// One JSON object per line on stdout; a table on stderr.
//   attention_stats_bench [--heads 32] [--dim 128] [--reps 5] [--max-materialise 65536] T...
#include <torch/cuda.h>
#include <torch/torch.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "bench/bench_main.h"
#include "bench/gpu_bench_args.h"
#include "bench/gpu_timing.h"
#include "cli/cli_args.h"
#include "core/model/torch_compat.h"
#include "kernels/attention_stats_backends.h"

namespace {

using headscope::bench::time_gpu;
using headscope::bench::Timing;

std::string json(const char* name, const Timing& t) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "\"%s_ms\": %.4f, \"%s_error\": \"%s\"", name, t.ms, name,
                t.error.c_str());
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  headscope::bench::GpuBenchArgs args;
  int64_t max_materialise = 65536;
  CLI::App app{"Attention statistics against fused attention (needs a GPU)",
               "attention_stats_bench"};
  headscope::bench::add_gpu_bench_options(app, args);
  app.add_option("--max-materialise", max_materialise, "Longest T whose full map is timed")
      ->check(headscope::cli::integer_in(0, headscope::cli::kMaxTokens))
      ->capture_default_str();
  return headscope::bench::bench_main(app, argc, argv, [&] {
    headscope::bench::require_cuda();
    const int64_t heads = args.heads, dim = args.dim;
    const int reps = args.reps;
    torch::NoGradGuard no_grad;
    const double scale = 1.0 / std::sqrt(static_cast<double>(dim));
    std::fprintf(stderr, "%8s %10s %12s %10s %10s %10s %12s %8s %8s %8s\n", "T", "sdpa_ms",
                 "pass1_ms", "all_ms", "one_ms", "fused_ms", "material_ms", "all/sdpa", "one/sdpa",
                 "fus/sdpa");
    for (const int64_t seq : args.lengths) {
      auto opts = torch::TensorOptions(torch::kBFloat16).device(torch::kCUDA);
      auto q = torch::randn({1, heads, seq, dim}, opts);
      auto k = torch::randn({1, heads, seq, dim}, opts);
      auto v = torch::randn({1, heads, seq, dim}, opts);
      const auto o =
          headscope::AttentionStatsOptions().with_scale(scale).with_topk(8).with_block_size(64);
      const int r = seq >= 65536 ? std::max(1, reps / 2) : reps;

      Timing sdpa = time_gpu([&] { headscope::compat::fused_attention(q, k, v, {}, scale); }, r);
      headscope::AttentionStats out = headscope::attention_stats_cuda(q[0], k[0], o);
      auto block_mass = out.block_mass;
      out.block_mass = torch::Tensor();
      Timing pass1 = time_gpu([&] { headscope::attention_stats_cuda_into(q[0], k[0], o, out); }, r);
      const auto o1 = headscope::AttentionStatsOptions(o).with_topk(1);
      headscope::AttentionStats out1 = headscope::attention_stats_cuda(q[0], k[0], o1);
      out1.block_mass = torch::Tensor();
      Timing pass1_top1 =
          time_gpu([&] { headscope::attention_stats_cuda_into(q[0], k[0], o1, out1); }, r);
      out1 = headscope::AttentionStats();
      out.block_mass = block_mass;
      Timing all = time_gpu([&] { headscope::attention_stats_cuda_into(q[0], k[0], o, out); }, r);
      Timing one_pass, fused;
      if (auto with = headscope::attention_with_stats(q[0], k[0], v[0], o)) {
        const auto lse = with->lse;
        with.reset();
        one_pass =
            time_gpu([&] { headscope::attention_stats_cuda_into(q[0], k[0], o, out, lse); }, r);
        fused = time_gpu([&] { headscope::attention_with_stats(q[0], k[0], v[0], o); }, r);
      } else {
        one_pass.error = fused.error = "no fused attention in this LibTorch";
      }
      Timing material;
      if (seq <= max_materialise) {
        material = time_gpu(
            [&] {
              auto s = torch::matmul(q, k.transpose(-1, -2)) * scale;
              auto mask =
                  torch::ones({seq, seq}, torch::TensorOptions(torch::kBool).device(torch::kCUDA))
                      .triu(1);
              auto p = torch::softmax(s.masked_fill(mask, -INFINITY), -1, torch::kFloat32)
                           .to(torch::kBFloat16);
            },
            1);
      }
      const double flops = 4.0 * heads * double(seq) * double(seq) * dim / 2;  // causal forward
      std::printf(
          "{\"T\": %lld, \"heads\": %lld, \"dim\": %lld, %s, %s, %s, %s, %s, %s, %s, "
          "\"sdpa_tflops\": %.1f}\n",
          static_cast<long long>(seq), static_cast<long long>(heads), static_cast<long long>(dim),
          json("sdpa", sdpa).c_str(), json("pass1", pass1).c_str(),
          json("pass1_top1", pass1_top1).c_str(), json("all", all).c_str(),
          json("one_pass", one_pass).c_str(), json("fused", fused).c_str(),
          json("materialise", material).c_str(), sdpa.ms > 0 ? flops / sdpa.ms / 1e9 : 0.0);
      std::fflush(stdout);
      std::fprintf(stderr, "%8lld %10.2f %12.2f %10.2f %10.2f %10.2f %12.2f %8.2f %8.2f %8.2f\n",
                   static_cast<long long>(seq), sdpa.ms, pass1.ms, all.ms, one_pass.ms, fused.ms,
                   material.ms, all.ms / sdpa.ms, one_pass.ms / sdpa.ms, fused.ms / sdpa.ms);
    }
    return 0;
  });
}
