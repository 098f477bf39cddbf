// Per-head attention profile of one sequence, gathered from the hook_pattern maps as a forward
// pass runs: where each head looks on average (the first token, the previous token, a chosen key
// span such as a needle's value) and how spread out it is. `headscope demo` prints and draws it;
// a retrieval-like head puts its mass on the needle's value while the answer is produced.
#pragma once

#include <cstdint>
#include <vector>

#include <torch/types.h>

#include "hooks/hooked_model.h"

namespace headscope {

struct HeadProfileOptions {
  // Queries [query_begin, query_end) average the mass on keys [span_begin, span_end).
  int64_t query_begin = 0, query_end = 0;
  int64_t span_begin = 0, span_end = 0;

  HeadProfileOptions& with_queries(int64_t begin, int64_t end) {
    return query_begin = begin, query_end = end, *this;
  }
  HeadProfileOptions& with_span(int64_t begin, int64_t end) {
    return span_begin = begin, span_end = end, *this;
  }
};

// float64 [layers, heads] each; means over query rows of the first sequence in the batch.
struct HeadProfile {
  torch::Tensor span_mass;      // over the chosen queries: mass on the chosen key span
  torch::Tensor first_mass;     // over all queries: mass on position 0
  torch::Tensor previous_mass;  // over queries 1..T-1: mass on the position just before
  torch::Tensor entropy;        // over all queries, nats
};

// Adds hook_pattern hooks to `model` (kept alive by `hooks`) that fill `profile` during the next
// forward pass. Throws InvalidInput when the query or span range is empty or reversed.
void attach_head_profile(ScopedHooks& hooks, const ModelConfig& config,
                         const HeadProfileOptions& options, HeadProfile& profile);

}  // namespace headscope
