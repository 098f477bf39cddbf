// What activation patching and path patching share: pairs grouped by length, their tokens
// stacked into batches, the batch size a sweep runs at, and the scorer that turns logits into
// the metric of each row (analyses/circuits/patching_metric.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/types.h>

#include "analyses/circuits/patching_metric.h"
#include "analyses/circuits/task_pairs.h"
#include "core/model/transformer.h"
#include "dist/work_split.h"

namespace headscope {

// InvalidInput "<what>: no pairs ..." for no pairs, and, for logit-diff, naming the first pair
// without a distractor.
void check_patching_pairs(const std::vector<PatchingPair>& pairs, PatchingMetric metric,
                          const std::string& what);

// Pairs of one length, run together.
struct LengthGroup {
  int64_t length = 0;
  std::vector<int64_t> pairs;  // indices into the pair list
};

std::vector<LengthGroup> group_by_length(const std::vector<PatchingPair>& pairs);

// [rows, T] int64 on the CPU: the clean (or corrupted) prompts of pairs `rows`, all of one length.
torch::Tensor stack_tokens(const std::vector<PatchingPair>& pairs, const std::vector<int64_t>& rows,
                           bool clean);

torch::Tensor index_tensor(const std::vector<int64_t>& values, torch::Device device);

double mean_of(const std::vector<double>& values);

// Rows per forward pass: `requested` when positive, else as many as a quarter of the memory left
// after `cache_bytes` holds at `per_row_bytes` each (at most 512; on the CPU at most 1024 tokens
// of the longest prompt), and never more than `rows` in all.
int64_t patching_batch_size(const Transformer& model, int64_t requested, double cache_bytes,
                            double per_row_bytes, int64_t longest, int64_t rows);

// The batches of a sweep whose rows are (item, pair), item-major within each length group, at
// most `batch` rows each: every batch's rows and cost (rows x length), and whether this process
// runs it (its share under a split, every batch in one process).
struct SweepBatches {
  std::vector<int64_t> rows;
  std::vector<double> costs;
  std::vector<uint8_t> here;
  int64_t rows_here() const;
};
SweepBatches sweep_batches(const std::vector<LengthGroup>& groups, int64_t items, int64_t batch,
                           const WorkSplit& split);

// One batch's values at their flat indices, as exchange_items carries them; and every
// exchanged batch's values written into `out` (`what` names them in errors).
std::string pack_indexed_values(const std::vector<int64_t>& indices,
                                const std::vector<double>& values);
void unpack_indexed_values(const std::vector<std::string>& items, const std::string& what,
                           std::vector<double>& out);

// The scored rows' logits [R, vocab]: the last position's when every row scores it (the model
// then projects only that position), else each row's position.
class PatchingScorer {
 public:
  PatchingScorer(const std::vector<PatchingPair>& pairs, PatchingMetric metric,
                 torch::Device device)
      : pairs_(pairs), metric_(metric), device_(device) {}

  LogitPositions positions(const std::vector<int64_t>& rows) const;
  // logits: the forward pass's, rows being pairs `rows`.
  torch::Tensor scored_logits(const torch::Tensor& logits, const std::vector<int64_t>& rows) const;
  // The metric of each row of `logits` [R, vocab], on the CPU.
  std::vector<double> metric(const torch::Tensor& logits, const std::vector<int64_t>& rows) const;
  // Stores the clean run's log-probabilities of `rows` (kl compares every run to them).
  void set_clean(const torch::Tensor& logits, const std::vector<int64_t>& rows);

 private:
  const std::vector<PatchingPair>& pairs_;
  PatchingMetric metric_;
  torch::Device device_;
  torch::Tensor clean_logprobs_;
};

}  // namespace headscope
