#include "core/model/generate.h"

#include "core/base/error.h"

namespace headscope {

torch::Tensor greedy_generate(const Transformer& model, const torch::Tensor& prompt,
                              const GenerateOptions& options, HookSink* hooks) {
  if (options.max_new_tokens < 0) throw InvalidInput("max-new-tokens must be >= 0");
  torch::NoGradGuard no_grad;
  KVCache cache;
  auto tokens = prompt.to(torch::kCPU, torch::kInt64);
  auto next_input = tokens;
  auto finished = torch::zeros({tokens.size(0)}, torch::kBool);
  for (int64_t step = 0; step < options.max_new_tokens; ++step) {
    auto logits = model.forward(next_input, hooks, &cache, LogitPositions::kLast);
    auto next = logits.select(1, 0).argmax(-1).to(torch::kCPU);
    if (options.stop_token) {
      next = torch::where(finished, torch::full_like(next, *options.stop_token), next);
      finished = finished.logical_or(next == *options.stop_token);
    }
    tokens = torch::cat({tokens, next.unsqueeze(1)}, 1);
    if (options.on_token) options.on_token(step + 1);
    if (options.stop_token && finished.all().item<bool>()) break;
    next_input = next.unsqueeze(1);
  }
  return tokens;
}

}  // namespace headscope
