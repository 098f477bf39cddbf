#include "zoo/batch.h"

#include <algorithm>

#include <torch/torch.h>

#include "core/base/error.h"

namespace headscope {

Batch make_batch(const std::vector<TaskSample>& samples, int64_t pad_id, torch::Device device) {
  HS_ASSERT(!samples.empty());
  int64_t length = 0;
  for (const auto& s : samples) length = std::max<int64_t>(length, s.tokens.size());
  if (length < 2) throw InvalidInput("task " + samples[0].task + " gave a sample shorter than 2");
  const auto batch = static_cast<int64_t>(samples.size());

  auto tokens = torch::full({batch, length}, pad_id, torch::kInt64);
  auto answer = torch::zeros({batch, length - 1}, torch::kFloat32);
  auto filler = torch::zeros({batch, length - 1}, torch::kFloat32);
  auto tok = tokens.accessor<int64_t, 2>();
  auto a = answer.accessor<float, 2>();
  auto f = filler.accessor<float, 2>();
  Batch out;
  for (int64_t b = 0; b < batch; ++b) {
    const TaskSample& s = samples[static_cast<size_t>(b)];
    const auto n = static_cast<int64_t>(s.tokens.size());
    for (int64_t t = 0; t < n; ++t) tok[b][t] = s.tokens[static_cast<size_t>(t)];
    out.real_tokens += n;
    // Token t is predicted at position t - 1; token 0 is never a target.
    for (const auto& [begin, end] : s.filler) {
      for (int64_t t = std::max<int64_t>(begin, 1); t < std::min(end, n); ++t) {
        f[b][t - 1] = 1.0f;
      }
    }
    if (s.answer_begin < 1 || s.answer_end > n || s.answer_begin >= s.answer_end) {
      throw InvalidInput("task " + s.task + " gave an answer span [" +
                         std::to_string(s.answer_begin) + ", " + std::to_string(s.answer_end) +
                         ") outside its " + std::to_string(n) + " tokens");
    }
    for (int64_t t = s.answer_begin; t < s.answer_end; ++t) {
      a[b][t - 1] = 1.0f;
      f[b][t - 1] = 0.0f;
    }
  }
  out.targets = tokens.slice(1, 1).contiguous().to(device);
  out.tokens = tokens.to(device);
  out.answer_mask = answer.to(device);
  out.filler_mask = filler.to(device);
  return out;
}

torch::Tensor weighted_task_loss(const torch::Tensor& token_loss, const Batch& batch,
                                 double answer_weight, double filler_weight) {
  auto part = [&](const torch::Tensor& mask) {
    return (token_loss * mask).sum() / mask.sum().clamp_min(1.0);
  };
  return answer_weight * part(batch.answer_mask) + filler_weight * part(batch.filler_mask);
}

}  // namespace headscope
