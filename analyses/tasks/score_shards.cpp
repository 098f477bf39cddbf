#include "analyses/tasks/score_shards.h"

#include <algorithm>

#include "core/base/error.h"

namespace headscope {

std::vector<double> batch_costs(int64_t n, int64_t batch_size) {
  std::vector<double> costs;
  for (int64_t first = 0; first < n; first += batch_size) {
    costs.push_back(static_cast<double>(std::min(batch_size, n - first)));
  }
  return costs;
}

std::vector<int64_t> batch_samples(std::vector<int64_t> batches, int64_t batch_size, int64_t n) {
  std::sort(batches.begin(), batches.end());
  std::vector<int64_t> samples;
  for (const int64_t b : batches) {
    for (int64_t i = b * batch_size; i < std::min(n, (b + 1) * batch_size); ++i) {
      samples.push_back(i);
    }
  }
  return samples;
}

std::vector<TaskSample> select_samples(const std::vector<TaskSample>& all,
                                       const std::vector<int64_t>& indices) {
  std::vector<TaskSample> selected;
  for (const int64_t i : indices) selected.push_back(all.at(static_cast<size_t>(i)));
  return selected;
}

void put_sample_scores(ByteWriter& out, const TaskScore& score) {
  out.put_vector(score.sample_correct);
  out.put_vector(score.sample_tokens_right);
  out.put_vector(score.sample_loss);
  out.put_vector(score.sample_logit_diff);
}

ScoreAssembler::ScoreAssembler(int64_t samples)
    : read_(static_cast<size_t>(samples)),
      correct_(static_cast<size_t>(samples)),
      tokens_right_(static_cast<size_t>(samples)),
      loss_(static_cast<size_t>(samples)),
      logit_diff_(static_cast<size_t>(samples)) {}

void ScoreAssembler::read(ByteReader& in, const std::vector<int64_t>& indices) {
  const auto correct = in.get_vector<uint8_t>();
  const auto tokens_right = in.get_vector<int64_t>();
  const auto loss = in.get_vector<double>();
  const auto logit_diff = in.get_vector<double>();
  const size_t n = indices.size();
  if (correct.size() != n || tokens_right.size() != n || loss.size() != n ||
      logit_diff.size() != n) {
    throw IoError("scores of " + std::to_string(correct.size()) + " samples for " +
                  std::to_string(n) + " sample indices");
  }
  for (size_t k = 0; k < n; ++k) {
    const int64_t i = indices[k];
    if (i < 0 || i >= static_cast<int64_t>(read_.size())) {
      throw IoError("sample index " + std::to_string(i) + " outside the scan's " +
                    std::to_string(read_.size()) + " samples");
    }
    const auto at = static_cast<size_t>(i);
    read_[at] = 1;
    correct_[at] = correct[k];
    tokens_right_[at] = tokens_right[k];
    loss_[at] = loss[k];
    logit_diff_[at] = logit_diff[k];
  }
}

TaskScore ScoreAssembler::result(const std::string& task,
                                 const std::vector<TaskSample>& samples) const {
  HS_ASSERT(samples.size() == read_.size());
  TaskScorer scorer(task);
  for (size_t i = 0; i < samples.size(); ++i) {
    if (read_[i] == 0) {
      throw IoError("no rank returned the score of sample " + std::to_string(i));
    }
    scorer.add_scored(correct_[i], tokens_right_[i],
                      samples[i].answer_end - samples[i].answer_begin, loss_[i], logit_diff_[i]);
  }
  return scorer.result();
}

}  // namespace headscope
