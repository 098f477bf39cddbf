// Scores a model on task samples: exact match of the answer by teacher-forced argmax (the greedy
// answer whenever every answer token is right), the logit difference against the distractor,
// and the cross-entropy of the answer. Shared by the zoo's evaluation and the analyses that
// score a model with interventions attached (ablation, pruning).
//
//   TaskScore plain = score_samples(model, samples, vocab.pad(), 16);
//   HookedModel hooked(model);
//   apply_interventions(hooked, {zero_head(model->config(), {1, 2})});
//   TaskScore ablated = score_samples(hooked_logits(hooked), model->device(), samples, pad, 16);
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <torch/types.h>

#include "analyses/tasks/task_sample.h"
#include "core/model/transformer.h"

namespace headscope {

class HookedModel;

struct TaskScore {
  std::string task;
  int64_t samples = 0;
  double accuracy = 0.0;  // fraction with every answer token the argmax
  // Fraction of all answer tokens that are the argmax: progress on long answers (induction's
  // second copy) long before whole answers come out right.
  double token_accuracy = 0.0;
  // Mean over samples of the mean cross-entropy (nats) of the sample's answer tokens.
  double answer_loss = 0.0;
  // Over samples with a distractor: mean logit(answer) - logit(distractor) at the first answer
  // position, and the fraction of those differences above zero.
  std::optional<double> mean_logit_diff;
  std::optional<double> fraction_positive;
  // Per sample, in input order: whole answer right (0/1), and the logit difference (NaN when
  // the sample has no distractor). For paired comparisons between two runs.
  std::vector<uint8_t> sample_correct;
  std::vector<double> sample_logit_diff;
  // Per sample: the answer tokens that are the argmax, and the answer's mean cross-entropy.
  // With the two above they rebuild the score of samples scored apart (the ranks of a launch):
  // TaskScorer::add_scored in sample order gives the score of scoring them together.
  std::vector<int64_t> sample_tokens_right;
  std::vector<double> sample_loss;
};

// Accumulates a TaskScore over batches of logits.
class TaskScorer {
 public:
  explicit TaskScorer(std::string task) : task_(std::move(task)) {}

  // logits: [B, T, vocab] (any dtype or device) of `batch` padded as pad_samples does.
  void add(const torch::Tensor& logits, const std::vector<TaskSample>& batch);
  // One sample already scored (TaskScore's per-sample values, answer_tokens its answer's
  // length), as add() would have added it.
  void add_scored(uint8_t correct, int64_t tokens_right, int64_t answer_tokens, double loss,
                  double logit_diff);
  // HS_ASSERT: at least one sample was added.
  TaskScore result() const;

 private:
  std::string task_;
  std::vector<uint8_t> correct_;
  std::vector<double> logit_diff_;
  std::vector<int64_t> tokens_right_;
  std::vector<double> loss_;
  int64_t tokens_ = 0, tokens_correct_ = 0;
  double loss_sum_ = 0.0;
};

// [B, T] int64 on the CPU, right-padded with pad_id to the longest sample. InvalidInput naming
// the task when a sample's answer span lies outside its tokens.
torch::Tensor pad_samples(const std::vector<TaskSample>& samples, int64_t pad_id);

// Logits [B, T, vocab] for the padded tokens [B, T] of `batch` (already on the model's device).
// Seeing the samples lets an intervention depend on them (the key positions it masks).
using LogitsFn =
    std::function<torch::Tensor(const torch::Tensor& tokens, const std::vector<TaskSample>& batch)>;

// A LogitsFn that runs `model` with whatever hooks are attached to it.
LogitsFn hooked_logits(HookedModel& model);

// Scores in batches of batch_size without gradients. HS_ASSERT: samples non-empty.
TaskScore score_samples(const LogitsFn& logits, torch::Device device,
                        const std::vector<TaskSample>& samples, int64_t pad_id, int64_t batch_size);
TaskScore score_samples(const Transformer& model, const std::vector<TaskSample>& samples,
                        int64_t pad_id, int64_t batch_size);

}  // namespace headscope
