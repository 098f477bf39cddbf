// The options of sparse-config and sparse-eval that say how heads are ranked and what the
// sparse ones become (--score, --kind, --sink, --window, --block-size, --topk-blocks, --tail),
// registered and read in one place.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "analyses/sparse/sparse_config_formats.h"

namespace headscope::cli {

struct SparseHeadArgs {
  std::string score = "auto";
  SparseKind kind = SparseKind::kStreaming;
  std::optional<int64_t> sink, window, block_size;
  int64_t topk_blocks = 4;
  double tail = 1.0;

  void add_options(CLI::App& cmd);
  // These choices as config options.
  SparseConfigOptions config_options() const;
};

}  // namespace headscope::cli
