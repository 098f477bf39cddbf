// The ModelSummary of a made-up model for tests that write headscope files without running one:
// `layers` x `heads` (as many KV heads), head dim 4, d_model 4 x heads, config "{}".
#pragma once

#include <cstdint>
#include <string>

#include "core/store/recording_schema.h"

namespace headscope::test {

inline ModelSummary made_up_model(int64_t layers, int64_t heads, std::string family = "llama",
                                  int64_t vocab_size = 16, std::string model_path = "") {
  return {std::move(family),     layers, heads, heads, 4, 4 * heads, vocab_size,
          std::move(model_path), "{}"};
}

}  // namespace headscope::test
