// Greedy decoding with a KV cache.
#pragma once

#include <functional>
#include <optional>

#include <torch/types.h>

#include "core/model/hook_sink.h"
#include "core/model/transformer.h"

namespace headscope {

struct GenerateOptions {
  int64_t max_new_tokens = 32;
  // Stop once every sequence has produced this token (finished ones are padded with it);
  // unset: always generate max_new_tokens.
  std::optional<int64_t> stop_token;
  // Called after each generated token with the count so far (progress reporting).
  std::function<void(int64_t generated)> on_token;
};

// prompt: [B, T]. Returns [B, T + generated] int64 on the CPU. `hooks` fires on the prefill and
// on every decoding step (positions of a step start at the cache length).
torch::Tensor greedy_generate(const Transformer& model, const torch::Tensor& prompt,
                              const GenerateOptions& options, HookSink* hooks = nullptr);

}  // namespace headscope
