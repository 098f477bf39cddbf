// Task samples -> padded training tensors with per-position loss weights.
#pragma once

#include <cstdint>
#include <vector>

#include <torch/types.h>

#include "analyses/tasks/task_sample.h"

namespace headscope {

struct Batch {
  torch::Tensor tokens;     // [B, T] int64, right-padded with the pad id
  torch::Tensor targets;    // [B, T-1]: tokens shifted left (position t predicts t+1)
  torch::Tensor weights;    // [B, T-1] float32 loss weight per prediction; 0 on padding
  int64_t real_tokens = 0;  // tokens before padding, for throughput
};

// Answer tokens get `answer_weight`, filler tokens `filler_weight`, everything else 0.
Batch make_batch(const std::vector<TaskSample>& samples, int64_t pad_id, double answer_weight,
                 double filler_weight, torch::Device device);

}  // namespace headscope
