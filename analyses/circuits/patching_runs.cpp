#include "analyses/circuits/patching_runs.h"

#include <algorithm>
#include <map>

#include <torch/torch.h>

#include "core/base/error.h"
#include "core/model/memory_estimate.h"
#include "dist/byte_codec.h"

namespace headscope {
namespace {

// Tokens per forward pass on the CPU: a CPU is compute-bound already at a few prompts, and
// larger batches only push the activations out of its caches (needle-4x8, 15-token IOI pairs:
// 64 rows 2.24 s, 256 rows 2.76 s per sweep; random 4 x 8 model, 64 tokens: 256 rows 1.6x
// slower per row than 64).
constexpr int64_t kCpuBatchTokens = 1024;
// Rows per forward pass when memory would allow more: beyond this a CPU gains nothing and a GPU
// little, and the per-batch masks grow.
constexpr int64_t kMaxAutoBatch = 512;

}  // namespace

void check_patching_pairs(const std::vector<PatchingPair>& pairs, PatchingMetric metric,
                          const std::string& what) {
  if (pairs.empty()) throw InvalidInput(what + ": no pairs to patch");
  if (metric == PatchingMetric::kLogitDiff) {
    if (const PatchingPair* p = pair_without_distractor(pairs)) {
      throw InvalidInput("--metric logit-diff: " + p->source +
                         " has no distractor to compare the answer with; give one, or use "
                         "--metric prob|logprob|kl");
    }
  }
  for (const PatchingPair& p : pairs)
    HS_ASSERT(p.clean.size() == p.corrupted.size() && !p.clean.empty());
}

std::vector<LengthGroup> group_by_length(const std::vector<PatchingPair>& pairs) {
  std::map<int64_t, LengthGroup> groups;
  for (size_t i = 0; i < pairs.size(); ++i) {
    const auto length = static_cast<int64_t>(pairs[i].clean.size());
    groups[length].length = length;
    groups[length].pairs.push_back(static_cast<int64_t>(i));
  }
  std::vector<LengthGroup> out;
  for (auto& entry : groups) out.push_back(std::move(entry.second));
  return out;
}

torch::Tensor stack_tokens(const std::vector<PatchingPair>& pairs, const std::vector<int64_t>& rows,
                           bool clean) {
  const auto length = static_cast<int64_t>(pairs[static_cast<size_t>(rows.front())].clean.size());
  auto tokens = torch::empty({static_cast<int64_t>(rows.size()), length}, torch::kInt64);
  auto acc = tokens.accessor<int64_t, 2>();
  for (size_t r = 0; r < rows.size(); ++r) {
    const PatchingPair& p = pairs[static_cast<size_t>(rows[r])];
    const std::vector<int32_t>& seq = clean ? p.clean : p.corrupted;
    for (int64_t t = 0; t < length; ++t)
      acc[static_cast<int64_t>(r)][t] = seq[static_cast<size_t>(t)];
  }
  return tokens;
}

torch::Tensor index_tensor(const std::vector<int64_t>& values, torch::Device device) {
  return torch::tensor(values, torch::kInt64).to(device);
}

double mean_of(const std::vector<double>& values) {
  double sum = 0.0;
  for (const double x : values) sum += x;
  return sum / static_cast<double>(values.size());
}

int64_t patching_batch_size(const Transformer& model, int64_t requested, double cache_bytes,
                            double per_row_bytes, int64_t longest, int64_t rows) {
  int64_t batch = requested;
  if (batch <= 0) {
    // Free memory may be unknown (infinite) or already short (negative): clamp as doubles.
    const double fit = (available_memory_bytes(model.device()) - cache_bytes) / 4.0 / per_row_bytes;
    batch = static_cast<int64_t>(std::clamp(fit, 1.0, static_cast<double>(kMaxAutoBatch)));
    if (model.device().is_cpu()) {
      batch = std::max<int64_t>(1, std::min(batch, kCpuBatchTokens / longest));
    }
  }
  return std::max<int64_t>(1, std::min(batch, rows));
}

int64_t SweepBatches::rows_here() const {
  int64_t sum = 0;
  for (size_t b = 0; b < rows.size(); ++b) {
    if (here[b] != 0) sum += rows[b];
  }
  return sum;
}

SweepBatches sweep_batches(const std::vector<LengthGroup>& groups, int64_t items, int64_t batch,
                           const WorkSplit& split) {
  HS_ASSERT(batch > 0);
  SweepBatches out;
  for (const LengthGroup& group : groups) {
    const auto rows = static_cast<int64_t>(group.pairs.size()) * items;
    for (int64_t begin = 0; begin < rows; begin += batch) {
      out.rows.push_back(std::min(rows, begin + batch) - begin);
      out.costs.push_back(static_cast<double>(out.rows.back() * group.length));
    }
  }
  out.here = split.runs(out.costs);
  return out;
}

std::string pack_indexed_values(const std::vector<int64_t>& indices,
                                const std::vector<double>& values) {
  HS_ASSERT(indices.size() == values.size());
  ByteWriter item;
  item.put_vector(indices);
  item.put_vector(values);
  return item.bytes();
}

void unpack_indexed_values(const std::vector<std::string>& items, const std::string& what,
                           std::vector<double>& out) {
  for (size_t b = 0; b < items.size(); ++b) {
    ByteReader in(items[b], what + " of batch " + std::to_string(b));
    const auto indices = in.get_vector<int64_t>();
    const auto values = in.get_vector<double>();
    if (indices.size() != values.size()) {
      throw IoError(what + " of batch " + std::to_string(b) + ": " +
                    std::to_string(indices.size()) + " indices for " +
                    std::to_string(values.size()) + " values");
    }
    for (size_t i = 0; i < indices.size(); ++i) {
      if (indices[i] < 0 || static_cast<size_t>(indices[i]) >= out.size()) {
        throw IoError(what + " of batch " + std::to_string(b) + ": index " +
                      std::to_string(indices[i]) + " outside the " + std::to_string(out.size()));
      }
      out[static_cast<size_t>(indices[i])] = values[i];
    }
  }
}

LogitPositions PatchingScorer::positions(const std::vector<int64_t>& rows) const {
  for (const int64_t r : rows) {
    const PatchingPair& p = pairs_[static_cast<size_t>(r)];
    if (p.position != static_cast<int64_t>(p.clean.size()) - 1) return LogitPositions::kAll;
  }
  return LogitPositions::kLast;
}

torch::Tensor PatchingScorer::scored_logits(const torch::Tensor& logits,
                                            const std::vector<int64_t>& rows) const {
  if (logits.size(1) == 1) return logits.select(1, 0);
  std::vector<int64_t> at;
  for (const int64_t r : rows) at.push_back(pairs_[static_cast<size_t>(r)].position);
  const torch::Tensor index = index_tensor(at, logits.device()).view({-1, 1, 1});
  return logits.gather(1, index.expand({-1, 1, logits.size(2)})).squeeze(1);
}

std::vector<double> PatchingScorer::metric(const torch::Tensor& logits,
                                           const std::vector<int64_t>& rows) const {
  std::vector<int64_t> answers, distractors;
  for (const int64_t r : rows) {
    answers.push_back(pairs_[static_cast<size_t>(r)].answer);
    distractors.push_back(std::max(pairs_[static_cast<size_t>(r)].distractor, 0));
  }
  torch::Tensor reference;
  if (metric_ == PatchingMetric::kKl)
    reference = clean_logprobs_.index_select(0, index_tensor(rows, device_));
  const torch::Tensor values =
      patching_metric(metric_, logits, index_tensor(answers, logits.device()),
                      index_tensor(distractors, logits.device()), reference)
          .cpu()
          .contiguous();
  return {values.data_ptr<double>(), values.data_ptr<double>() + values.numel()};
}

void PatchingScorer::set_clean(const torch::Tensor& logits, const std::vector<int64_t>& rows) {
  if (metric_ != PatchingMetric::kKl) return;
  if (!clean_logprobs_.defined()) {
    clean_logprobs_ = torch::zeros({static_cast<int64_t>(pairs_.size()), logits.size(1)},
                                   torch::TensorOptions(torch::kFloat64).device(device_));
  }
  clean_logprobs_.index_copy_(0, index_tensor(rows, device_),
                              torch::log_softmax(logits.to(torch::kFloat64), 1).to(device_));
}

}  // namespace headscope
