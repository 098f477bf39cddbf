#include "analyses/snr/block_routing.h"

#include <algorithm>
#include <limits>

#include "core/base/error.h"

namespace headscope {
namespace {

// Which of the routed blocks 0..c-1 carry a relevant key's signal (the key itself, or with key
// convolution one of the W - 1 smoothed keys after it).
std::vector<bool> relevant_blocks(int64_t routed_blocks, const std::vector<int64_t>& relevant,
                                  const BlockRouting& routing) {
  std::vector<bool> marked(static_cast<size_t>(routed_blocks), false);
  const int64_t routed_keys = routed_blocks * routing.block_size;
  for (const int64_t r : relevant) {
    if (r >= routed_keys) continue;
    const int64_t last = std::min(r + routing.key_conv - 1, routed_keys - 1);
    for (int64_t b = r / routing.block_size; b <= last / routing.block_size; ++b) {
      marked[static_cast<size_t>(b)] = true;
    }
  }
  return marked;
}

double mean_of(const std::vector<double>& v) {
  double sum = 0.0;
  for (const double x : v) sum += x;
  return sum / static_cast<double>(v.size());
}

double sample_var(const std::vector<double>& v, double mean) {
  double sum = 0.0;
  for (const double x : v) sum += (x - mean) * (x - mean);
  return sum / static_cast<double>(v.size() - 1);
}

void check_relevant(const std::vector<double>& scores, const std::vector<int64_t>& relevant) {
  HS_ASSERT(std::is_sorted(relevant.begin(), relevant.end()));
  HS_ASSERT(std::adjacent_find(relevant.begin(), relevant.end()) == relevant.end());
  HS_ASSERT(relevant.empty() ||
            (relevant.front() >= 0 && relevant.back() < static_cast<int64_t>(scores.size())));
}

}  // namespace

KeyLevel key_level(const std::vector<double>& scores, const std::vector<int64_t>& relevant) {
  check_relevant(scores, relevant);
  KeyLevel out;
  if (relevant.empty() || scores.size() < relevant.size() + 2) return out;
  std::vector<double> signal, noise;
  size_t next = 0;
  for (size_t j = 0; j < scores.size(); ++j) {
    if (next < relevant.size() && static_cast<int64_t>(j) == relevant[next]) {
      signal.push_back(scores[j]);
      ++next;
    } else {
      noise.push_back(scores[j]);
    }
  }
  const double noise_mean = mean_of(noise);
  out.valid = true;
  out.delta_mu = mean_of(signal) - noise_mean;
  out.noise_var = sample_var(noise, noise_mean);
  return out;
}

bool routable(int64_t position, const std::vector<int64_t>& relevant, const BlockRouting& routing) {
  HS_ASSERT(routing.block_size >= 1 && routing.key_conv >= 1);
  const int64_t routed_blocks = position / routing.block_size;
  if (routed_blocks == 0 || relevant.empty() ||
      relevant.front() >= routed_blocks * routing.block_size) {
    return false;
  }
  const std::vector<bool> marked = relevant_blocks(routed_blocks, relevant, routing);
  return std::count(marked.begin(), marked.end(), false) > 0;
}

BlockLevel block_level(const std::vector<double>& scores, const std::vector<int64_t>& relevant,
                       const BlockRouting& routing) {
  check_relevant(scores, relevant);
  HS_ASSERT(routing.block_size >= 1 && routing.key_conv >= 1 && !scores.empty());
  const auto position = static_cast<int64_t>(scores.size()) - 1;
  const int64_t b_size = routing.block_size;
  const int64_t routed_blocks = position / b_size;
  BlockLevel out;
  out.in_current_block = !relevant.empty() && relevant.front() >= routed_blocks * b_size;
  if (!routable(position, relevant, routing)) return out;

  // Smoothed keys, then block means; q · mean(K) = mean(q · k) since the score is linear in k.
  std::vector<double> smoothed(static_cast<size_t>(routed_blocks * b_size));
  double window = 0.0;
  for (int64_t j = 0; j < routed_blocks * b_size; ++j) {
    window += scores[static_cast<size_t>(j)];
    if (j >= routing.key_conv) window -= scores[static_cast<size_t>(j - routing.key_conv)];
    smoothed[static_cast<size_t>(j)] =
        window / static_cast<double>(std::min(j + 1, routing.key_conv));
  }
  const std::vector<bool> marked = relevant_blocks(routed_blocks, relevant, routing);
  double best = -std::numeric_limits<double>::infinity();
  std::vector<double> noise;
  for (int64_t b = 0; b < routed_blocks; ++b) {
    double sum = 0.0;
    for (int64_t j = b * b_size; j < (b + 1) * b_size; ++j) sum += smoothed[static_cast<size_t>(j)];
    const double score = sum / static_cast<double>(b_size);
    if (marked[static_cast<size_t>(b)]) {
      best = std::max(best, score);
    } else {
      noise.push_back(score);
    }
  }
  const double noise_mean = mean_of(noise);
  out.routed = true;
  out.delta_mu_eff = best - noise_mean;
  out.noise_blocks = static_cast<int64_t>(noise.size());
  out.above = std::count_if(noise.begin(), noise.end(), [best](double s) { return s > best; });
  out.has_block_var = noise.size() >= 2;
  if (out.has_block_var) out.block_var = sample_var(noise, noise_mean);
  return out;
}

}  // namespace headscope
