// Task scoring split over the ranks of a distributed launch (issue 16, docs/DISTRIBUTED.md).
// The split is by whole batches, so every rank runs exactly the batches one process would run
// (the same padding, the same kernels): each sample's values are then bit-identical, and rank 0,
// adding them in sample order, gets the score one process computes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "analyses/tasks/task_sample.h"
#include "analyses/tasks/task_score.h"
#include "dist/byte_codec.h"

namespace headscope {

// The cost of each batch of batch_size consecutive samples out of n: its sample count.
std::vector<double> batch_costs(int64_t n, int64_t batch_size);

// The indices of the samples of `batches` (batch b holds samples [b * batch_size, ...)), in
// increasing order.
std::vector<int64_t> batch_samples(std::vector<int64_t> batches, int64_t batch_size, int64_t n);

// The elements of `all` at `indices`.
std::vector<TaskSample> select_samples(const std::vector<TaskSample>& all,
                                       const std::vector<int64_t>& indices);

// The per-sample values of `score` (its samples in order) as bytes.
void put_sample_scores(ByteWriter& out, const TaskScore& score);

// The TaskScore of every sample, from the per-sample values of the ranks' shares.
class ScoreAssembler {
 public:
  explicit ScoreAssembler(int64_t samples);
  // Reads a share's values (put_sample_scores) for the samples `indices`, in that order.
  // IoError naming the payload when they do not fit.
  void read(ByteReader& in, const std::vector<int64_t>& indices);
  // Every sample added in sample order (TaskScorer::add_scored). IoError when a sample was
  // never read.
  TaskScore result(const std::string& task, const std::vector<TaskSample>& samples) const;

 private:
  std::vector<uint8_t> read_, correct_;
  std::vector<int64_t> tokens_right_;
  std::vector<double> loss_, logit_diff_;
};

}  // namespace headscope
