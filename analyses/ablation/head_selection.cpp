#include "analyses/ablation/head_selection.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <set>
#include <utility>

#include <torch/torch.h>

#include "analyses/tasks/task_random.h"
#include "core/base/error.h"

namespace headscope {
namespace {

int64_t parse_index(const std::string& text, const std::string& item, const std::string& argument) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos ||
      text.size() > 9) {
    throw InvalidInput(argument + ": expected LAYER.HEAD (e.g. 3.1), got '" + item + "'");
  }
  return std::stoll(text);
}

std::string head_count(const ModelConfig& config) {
  return std::to_string(config.n_layers) + " layers x " + std::to_string(config.n_heads) + " heads";
}

}  // namespace

std::vector<HeadRef> parse_heads(const std::string& text, const ModelConfig& config,
                                 const std::string& argument) {
  std::vector<HeadRef> heads;
  std::set<std::pair<int64_t, int64_t>> seen;
  size_t start = 0;
  while (true) {
    const size_t end = std::min(text.find(',', start), text.size());
    const std::string item = text.substr(start, end - start);
    const size_t dot = item.find('.');
    if (dot == std::string::npos) {
      throw InvalidInput(argument + ": expected LAYER.HEAD (e.g. 3.1), got '" + item + "'");
    }
    const HeadRef head{parse_index(item.substr(0, dot), item, argument),
                       parse_index(item.substr(dot + 1), item, argument)};
    if (head.layer >= config.n_layers || head.head >= config.n_heads) {
      throw InvalidInput(argument + ": head " + item + " does not exist; the model has " +
                         head_count(config));
    }
    if (!seen.insert({head.layer, head.head}).second) {
      throw InvalidInput(argument + ": head " + item + " is listed twice");
    }
    heads.push_back(head);
    if (end == text.size()) break;
    start = end + 1;
  }
  return heads;
}

std::string format_heads(const std::vector<HeadRef>& heads) {
  std::string text;
  for (const HeadRef& h : heads) {
    text += (text.empty() ? "" : ",") + std::to_string(h.layer) + "." + std::to_string(h.head);
  }
  return text;
}

std::vector<HeadRef> top_heads(const torch::Tensor& scores, int64_t k) {
  HS_ASSERT(scores.dim() == 2);
  const int64_t n_heads = scores.size(1), total = scores.numel();
  if (k < 0 || k > total) {
    throw InvalidInput("top " + std::to_string(k) + " heads: the scores cover " +
                       std::to_string(total) + " heads (" + std::to_string(scores.size(0)) +
                       " layers x " + std::to_string(n_heads) + ")");
  }
  const auto flat = scores.to(torch::kFloat64).cpu().contiguous().view(-1);
  const double* value = flat.data_ptr<double>();
  std::vector<int64_t> order(static_cast<size_t>(total));
  for (int64_t i = 0; i < total; ++i) order[static_cast<size_t>(i)] = i;
  // Stable on index, so ties keep (layer, head) order; NaN compares as lowest.
  std::stable_sort(order.begin(), order.end(), [value](int64_t a, int64_t b) {
    const double va = std::isnan(value[a]) ? -INFINITY : value[a];
    const double vb = std::isnan(value[b]) ? -INFINITY : value[b];
    return va > vb;
  });
  std::vector<HeadRef> heads;
  for (int64_t i = 0; i < k; ++i) {
    const int64_t idx = order[static_cast<size_t>(i)];
    heads.push_back(HeadRef{idx / n_heads, idx % n_heads});
  }
  return heads;
}

std::vector<HeadRef> random_heads(const ModelConfig& config, int64_t k, uint64_t seed,
                                  const std::vector<HeadRef>& exclude) {
  std::set<std::pair<int64_t, int64_t>> excluded;
  for (const HeadRef& h : exclude) excluded.insert({h.layer, h.head});
  std::vector<HeadRef> pool;
  for (int64_t layer = 0; layer < config.n_layers; ++layer) {
    for (int64_t head = 0; head < config.n_heads; ++head) {
      if (excluded.count({layer, head}) == 0) pool.push_back(HeadRef{layer, head});
    }
  }
  if (k < 0 || k > static_cast<int64_t>(pool.size())) {
    throw InvalidInput(
        "random " + std::to_string(k) + " heads: only " + std::to_string(pool.size()) +
        " of the model's " + head_count(config) + " are left to draw from" +
        (exclude.empty() ? "" : " after excluding " + std::to_string(excluded.size())));
  }
  std::mt19937_64 rng(seed);
  std::vector<HeadRef> heads;
  for (size_t idx : random_distinct(rng, pool.size(), static_cast<size_t>(k))) {
    heads.push_back(pool[idx]);
  }
  return heads;
}

}  // namespace headscope
