// Task samples -> padded training tensors with per-position loss weights.
#pragma once

#include <cstdint>
#include <vector>

#include <torch/types.h>

#include "analyses/tasks/task_sample.h"

namespace headscope {

struct Batch {
  torch::Tensor tokens;   // [B, T] int64, right-padded with the pad id
  torch::Tensor targets;  // [B, T-1]: tokens shifted left (position t predicts t+1)
  // [B, T-1] float32, 1 where the prediction is an answer token / a filler token, else 0.
  torch::Tensor answer_mask;
  torch::Tensor filler_mask;
  int64_t real_tokens = 0;  // tokens before padding, for throughput
};

Batch make_batch(const std::vector<TaskSample>& samples, int64_t pad_id, torch::Device device);

// answer_weight x (mean cross-entropy over answer tokens) + filler_weight x (mean over filler
// tokens). Each part is normalised on its own: a long haystack must not drown the few answer
// tokens of a needle (it did when both shared one normaliser). token_loss: [B, T-1].
torch::Tensor weighted_task_loss(const torch::Tensor& token_loss, const Batch& batch,
                                 double answer_weight, double filler_weight);

}  // namespace headscope
