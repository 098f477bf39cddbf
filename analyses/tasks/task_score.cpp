#include "analyses/tasks/task_score.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <torch/torch.h>

#include "core/base/error.h"
#include "hooks/hooked_model.h"

namespace headscope {

void TaskScorer::add(const torch::Tensor& logits, const std::vector<TaskSample>& batch) {
  HS_ASSERT(logits.dim() == 3 && logits.size(0) == static_cast<int64_t>(batch.size()));
  const auto log_probs = logits.detach().to(torch::kFloat32).cpu().log_softmax(-1);
  const auto predicted = log_probs.argmax(-1);
  const auto pred = predicted.accessor<int64_t, 2>();
  const auto lp = log_probs.accessor<float, 3>();
  for (size_t i = 0; i < batch.size(); ++i) {
    const TaskSample& s = batch[i];
    const auto b = static_cast<int64_t>(i);
    int64_t right = 0;
    double loss = 0.0;
    // Token t is predicted at position t - 1.
    for (int64_t t = s.answer_begin; t < s.answer_end; ++t) {
      const int32_t target = s.tokens[static_cast<size_t>(t)];
      right += pred[b][t - 1] == target ? 1 : 0;
      loss -= lp[b][t - 1][target];
    }
    const int64_t n = s.answer_end - s.answer_begin;
    double diff = std::numeric_limits<double>::quiet_NaN();
    if (s.distractor >= 0) {
      // Log-probabilities differ from logits by one constant per row: the difference is the
      // logit difference.
      const auto row = s.answer_begin - 1;
      diff = static_cast<double>(lp[b][row][s.tokens[static_cast<size_t>(s.answer_begin)]]) -
             static_cast<double>(lp[b][row][s.distractor]);
    }
    add_scored(right == n ? 1 : 0, right, n, loss / static_cast<double>(n), diff);
  }
}

void TaskScorer::add_scored(uint8_t correct, int64_t tokens_right, int64_t answer_tokens,
                            double loss, double logit_diff) {
  correct_.push_back(correct);
  tokens_right_.push_back(tokens_right);
  tokens_correct_ += tokens_right;
  tokens_ += answer_tokens;
  loss_.push_back(loss);
  loss_sum_ += loss;
  logit_diff_.push_back(logit_diff);
}

TaskScore TaskScorer::result() const {
  HS_ASSERT(!correct_.empty());
  TaskScore score;
  score.task = task_;
  score.samples = static_cast<int64_t>(correct_.size());
  int64_t correct = 0, with_distractor = 0, positive = 0;
  double diff_sum = 0.0;
  for (size_t i = 0; i < correct_.size(); ++i) {
    correct += correct_[i];
    if (std::isnan(logit_diff_[i])) continue;
    diff_sum += logit_diff_[i];
    positive += logit_diff_[i] > 0.0 ? 1 : 0;
    ++with_distractor;
  }
  const auto n = static_cast<double>(score.samples);
  score.accuracy = static_cast<double>(correct) / n;
  score.token_accuracy = static_cast<double>(tokens_correct_) / static_cast<double>(tokens_);
  score.answer_loss = loss_sum_ / n;
  if (with_distractor > 0) {
    score.mean_logit_diff = diff_sum / static_cast<double>(with_distractor);
    score.fraction_positive = static_cast<double>(positive) / static_cast<double>(with_distractor);
  }
  score.sample_correct = correct_;
  score.sample_logit_diff = logit_diff_;
  score.sample_tokens_right = tokens_right_;
  score.sample_loss = loss_;
  return score;
}

torch::Tensor pad_samples(const std::vector<TaskSample>& samples, int64_t pad_id) {
  HS_ASSERT(!samples.empty());
  int64_t length = 0;
  for (const auto& s : samples) length = std::max<int64_t>(length, s.tokens.size());
  auto tokens = torch::full({static_cast<int64_t>(samples.size()), length}, pad_id, torch::kInt64);
  auto tok = tokens.accessor<int64_t, 2>();
  for (size_t b = 0; b < samples.size(); ++b) {
    const TaskSample& s = samples[b];
    const auto n = static_cast<int64_t>(s.tokens.size());
    if (s.answer_begin < 1 || s.answer_end > n || s.answer_begin >= s.answer_end) {
      throw InvalidInput("task " + s.task + " gave an answer span [" +
                         std::to_string(s.answer_begin) + ", " + std::to_string(s.answer_end) +
                         ") outside its " + std::to_string(n) + " tokens");
    }
    for (int64_t t = 0; t < n; ++t)
      tok[static_cast<int64_t>(b)][t] = s.tokens[static_cast<size_t>(t)];
  }
  return tokens;
}

LogitsFn hooked_logits(HookedModel& model) {
  return [&model](const torch::Tensor& tokens, const std::vector<TaskSample>&) {
    return model.forward(tokens);
  };
}

TaskScore score_samples(const LogitsFn& logits, torch::Device device,
                        const std::vector<TaskSample>& samples, int64_t pad_id,
                        int64_t batch_size) {
  HS_ASSERT(!samples.empty() && batch_size > 0);
  torch::NoGradGuard no_grad;
  TaskScorer scorer(samples[0].task);
  for (size_t first = 0; first < samples.size(); first += static_cast<size_t>(batch_size)) {
    const size_t last = std::min(samples.size(), first + static_cast<size_t>(batch_size));
    const std::vector<TaskSample> chunk(samples.begin() + first, samples.begin() + last);
    scorer.add(logits(pad_samples(chunk, pad_id).to(device), chunk), chunk);
  }
  return scorer.result();
}

TaskScore score_samples(const Transformer& model, const std::vector<TaskSample>& samples,
                        int64_t pad_id, int64_t batch_size) {
  const LogitsFn plain = [&model](const torch::Tensor& tokens, const std::vector<TaskSample>&) {
    return model.forward(tokens);
  };
  return score_samples(plain, model.device(), samples, pad_id, batch_size);
}

}  // namespace headscope
