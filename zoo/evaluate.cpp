#include "zoo/evaluate.h"

#include <algorithm>

#include <torch/torch.h>

#include "core/error.h"
#include "zoo/batch.h"

namespace headscope {

TaskScore score_samples(const Transformer& model, const std::vector<TaskSample>& samples,
                        int64_t pad_id, int64_t batch_size) {
  HS_ASSERT(!samples.empty() && batch_size > 0);
  torch::NoGradGuard no_grad;
  TaskScore score;
  score.task = samples[0].task;
  score.samples = static_cast<int64_t>(samples.size());
  int64_t correct = 0, tokens = 0, tokens_correct = 0, with_distractor = 0, positive = 0;
  double diff_sum = 0.0;
  for (size_t first = 0; first < samples.size(); first += static_cast<size_t>(batch_size)) {
    const size_t last = std::min(samples.size(), first + static_cast<size_t>(batch_size));
    const std::vector<TaskSample> chunk(samples.begin() + first, samples.begin() + last);
    const Batch batch = make_batch(chunk, pad_id, model.device());
    const auto logits = model.forward(batch.tokens).to(torch::kFloat32).cpu();
    const auto predicted = logits.argmax(-1);
    const auto pred = predicted.accessor<int64_t, 2>();
    for (size_t i = 0; i < chunk.size(); ++i) {
      const TaskSample& s = chunk[i];
      const auto b = static_cast<int64_t>(i);
      int64_t right = 0;
      for (int64_t t = s.answer_begin; t < s.answer_end; ++t) {
        right += pred[b][t - 1] == s.tokens[static_cast<size_t>(t)] ? 1 : 0;
      }
      correct += right == s.answer_end - s.answer_begin ? 1 : 0;
      tokens_correct += right;
      tokens += s.answer_end - s.answer_begin;
      if (s.distractor >= 0) {
        const auto row = logits[b][s.answer_begin - 1];
        const double diff =
            (row[s.tokens[static_cast<size_t>(s.answer_begin)]] - row[s.distractor]).item<double>();
        diff_sum += diff;
        positive += diff > 0.0 ? 1 : 0;
        ++with_distractor;
      }
    }
  }
  score.accuracy = static_cast<double>(correct) / static_cast<double>(score.samples);
  score.token_accuracy = static_cast<double>(tokens_correct) / static_cast<double>(tokens);
  if (with_distractor > 0) {
    score.mean_logit_diff = diff_sum / static_cast<double>(with_distractor);
    score.fraction_positive = static_cast<double>(positive) / static_cast<double>(with_distractor);
  }
  return score;
}

}  // namespace headscope
