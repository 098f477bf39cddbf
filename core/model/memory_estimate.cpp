#include "core/model/memory_estimate.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <sstream>

#if HEADSCOPE_CUDA_MEMORY_INFO
#include <cuda_runtime_api.h>
#endif

#include "core/base/error.h"

namespace headscope {
namespace {

double d(int64_t v) {
  return static_cast<double>(v);
}

// Tensors of one layer's forward pass per token, in units of d_model-like widths: residual,
// norm output, attention and MLP outputs, q/k/v with their rotated and GQA-expanded copies,
// and the MLP's hidden activations.
double layer_activation_elements(const ModelConfig& c) {
  const double q = d(c.n_heads) * d(c.d_head), kv = d(c.n_kv_heads) * d(c.d_head);
  return 6.0 * d(c.d_model) + 4.0 * q + 4.0 * kv + 3.0 * d(c.d_mlp);
}

// Queries per block of the chunked attention path (core/model/chunked_attention.h).
constexpr int64_t kAttentionChunk = 256;

double mem_available_from_proc() {
  std::ifstream meminfo("/proc/meminfo");
  std::string line;
  while (std::getline(meminfo, line)) {
    if (line.rfind("MemAvailable:", 0) != 0) continue;
    std::istringstream fields(line.substr(13));
    double kib = 0.0;
    if (fields >> kib) return kib * 1024.0;
  }
  return -1.0;
}

}  // namespace

double parameter_count(const ModelConfig& c) {
  const double dm = d(c.d_model), q = d(c.n_heads) * d(c.d_head),
               kv = d(c.n_kv_heads) * d(c.d_head), mlp = d(c.d_mlp);
  const bool layer_norm = c.norm == NormKind::kLayerNorm;
  double layer = (layer_norm ? 4.0 : 2.0) * dm;  // two norms
  layer += 2.0 * q * dm + 2.0 * kv * dm;         // wq, wk, wv, wo
  if (c.qkv_bias) layer += q + 2.0 * kv;
  if (c.o_bias) layer += dm;
  if (c.qk_norm) layer += 2.0 * d(c.d_head);
  layer += (c.gated_mlp ? 3.0 : 2.0) * mlp * dm;  // gate, up, down
  if (c.mlp_bias) layer += mlp + dm;
  double total = d(c.n_layers) * layer;
  total += d(c.vocab_size) * dm * (c.tied_embeddings ? 1.0 : 2.0);
  if (c.learned_positions) total += d(c.max_positions) * dm;
  total += (layer_norm ? 2.0 : 1.0) * dm;  // final norm
  return total;
}

double weight_bytes(const ModelConfig& c, int64_t element_size) {
  return parameter_count(c) * d(element_size);
}

double kv_cache_bytes(const ModelConfig& c, int64_t batch, int64_t tokens, int64_t element_size) {
  return 2.0 * d(c.n_layers) * d(batch) * d(tokens) * d(c.n_kv_heads) * d(c.d_head) *
         d(element_size);
}

double forward_bytes(const ModelConfig& c, const ForwardShape& s, int64_t element_size) {
  const double rows = d(s.batch) * d(s.tokens), heads = d(s.batch) * d(c.n_heads);
  double bytes = rows * layer_activation_elements(c) * d(element_size);
  const double keys = d(s.tokens);
  if (s.attention_maps) {
    // Scores, masked scores and the pattern in the compute dtype, the float32 softmax and its
    // float32 copy for the file, and the [T, T] mask.
    bytes += heads * keys * keys * (3.0 * d(element_size) + 8.0) + keys * keys;
  } else if (s.fused_attention) {
    // z and its [B, T, H * D] copy for the output projection, copies of q, k and v where the
    // kernel wants another layout, and the float32 log-sum-exp; a sliding window also passes
    // a boolean [T, T] mask, which LibTorch turns into an additive one in the compute dtype.
    bytes += heads * keys * (5.0 * d(c.d_head) * d(element_size) + 4.0);
    if (c.sliding_window) bytes += keys * keys * (1.0 + d(element_size));
  } else {
    // The chunked path's scratch for one block of queries (core/model/chunked_attention.cpp):
    // scores and probabilities in the compute dtype (at most 4 bytes each), the float32 scores
    // and softmax, and the boolean mask.
    bytes += heads * std::min(keys, d(kAttentionChunk)) * keys * 17.0;
  }
  // Logits in the compute dtype and as float32 for softmax or argmax.
  bytes += d(s.batch) * d(s.logit_positions) * d(c.vocab_size) * (d(element_size) + 4.0);
  return bytes;
}

double attention_stats_bytes(const ModelConfig& c, int64_t tokens, int64_t topk, int64_t block_size,
                             int64_t chunk) {
  const double heads = d(c.n_heads), t = d(tokens), b = d(std::max<int64_t>(block_size, 1));
  double bytes = attention_stats_output_bytes(c, tokens, topk, block_size);
  // One chunk (whole blocks of queries) for one kv head's group, in float32: the shifted
  // scores and their exponentials (kernels/attention_stats_cpu.cpp), and the boolean masks.
  const double group = heads / d(std::max<int64_t>(c.n_kv_heads, 1));
  const double rows = std::min(t, std::max(1.0, std::floor(d(chunk) / b)) * b);
  bytes += group * rows * t * 2.0 * 4.0 + rows * t * 3.0;
  return bytes;
}

double attention_stats_output_bytes(const ModelConfig& c, int64_t tokens, int64_t topk,
                                    int64_t block_size) {
  const double heads = d(c.n_heads), t = d(tokens), b = d(std::max<int64_t>(block_size, 1));
  const double blocks = std::ceil(t / b);
  // entropy, sink, local, max_prob, argmax: 4 bytes each per query; top-k index and probability.
  return heads * t * (5.0 * 4.0 + d(topk) * 8.0) + heads * blocks * blocks * 4.0;
}

double stats_write_budget_bytes(double layer_bytes) {
  return std::max(layer_bytes, std::min(4.0 * layer_bytes, 4.0 * (1 << 30)));
}

double available_memory_bytes(torch::Device device) {
  if (device.is_cuda()) {
#if HEADSCOPE_CUDA_MEMORY_INFO
    int previous = 0;
    size_t free = 0, total = 0;
    if (cudaGetDevice(&previous) == cudaSuccess &&
        cudaSetDevice(device.has_index() ? device.index() : previous) == cudaSuccess &&
        cudaMemGetInfo(&free, &total) == cudaSuccess) {
      cudaSetDevice(previous);
      return d(static_cast<int64_t>(free));
    }
    cudaGetLastError();  // clear the sticky error of a failed query
#endif
    return std::numeric_limits<double>::infinity();
  }
  const double available = mem_available_from_proc();
  if (available >= 0.0) return available;
  const long pages = ::sysconf(_SC_PHYS_PAGES), page_size = ::sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page_size <= 0) return std::numeric_limits<double>::infinity();
  return static_cast<double>(pages) * static_cast<double>(page_size);
}

std::string format_bytes(double bytes) {
  static const char* const kUnits[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
  int unit = 0;
  while (bytes >= 1024.0 && unit < 4) bytes /= 1024.0, ++unit;
  char text[64];
  if (unit == 0) {
    std::snprintf(text, sizeof text, "%.0f bytes", bytes);
  } else if (bytes < 1e4) {
    std::snprintf(text, sizeof text, "%.1f %s", bytes, kUnits[unit]);
  } else {
    std::snprintf(text, sizeof text, "%.2g %s", bytes, kUnits[unit]);
  }
  return text;
}

void check_memory_fits(double bytes, torch::Device device, const std::string& what,
                       const std::string& hint) {
  const double available = available_memory_bytes(device);
  if (bytes <= available) return;
  throw InvalidInput(what + " needs about " + format_bytes(bytes) + ", more than the " +
                     format_bytes(available) + " of memory available on " + device.str() +
                     (hint.empty() ? "" : "; " + hint));
}

void check_placement_fits(const LayerPlacement& placement, double peak, double per_layer,
                          const std::string& what, const std::string& hint) {
  std::vector<torch::Device> devices;
  for (const torch::Device& d : placement.devices) {
    if (std::find(devices.begin(), devices.end(), d) == devices.end()) devices.push_back(d);
  }
  for (const torch::Device& device : devices) {
    double layers = 0.0;
    for (const int64_t index : placement.layer_device) {
      layers += placement.devices[static_cast<size_t>(index)] == device ? 1.0 : 0.0;
    }
    check_memory_fits(peak + layers * per_layer, device, what, hint);
  }
}

}  // namespace headscope
