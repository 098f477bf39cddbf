#include "cli/sparse_head_args.h"

#include "cli/cli_args.h"
#include "core/base/error.h"

namespace headscope::cli {

void SparseHeadArgs::add_options(CLI::App& cmd) {
  cmd.add_option("--score", score,
                 "What ranks heads: auto (retrieval if present), retrieval, stats")
      ->capture_default_str()
      ->check(one_of({"auto", "retrieval", "stats"}));
  cmd.add_option("--kind", kind, "What the sparse heads become: streaming or block_sparse")
      ->capture_default_str()
      ->check(one_of({"streaming", "block_sparse"}));
  cmd.add_option("--sink", sink, "Sink tokens of streaming heads (default: the stats')")
      ->check(integer_in(0, kMaxTokens));
  cmd.add_option("--window", window,
                 "Local window of streaming heads (default: the stats' window)")
      ->check(integer_in(1, kMaxTokens));
  cmd.add_option("--block-size", block_size, "block_sparse: keys per block (default: the stats')")
      ->check(integer_in(1, kMaxStatsParameter));
  cmd.add_option("--topk-blocks", topk_blocks, "block_sparse: earlier blocks kept")
      ->capture_default_str()
      ->check(integer_in(0, kMaxTokens));
  cmd.add_option("--tail", tail,
                 "stats ranking: last fraction of each run's queries it averages over, in (0, 1]")
      ->capture_default_str()
      ->check(number_in(0.0, 1.0));
}

SparseConfigOptions SparseHeadArgs::config_options() const {
  SparseConfigOptions options;
  options.sink = sink;
  options.window = window;
  options.block_size = block_size;
  if (kind == "block_sparse") {
    options.with_sparse_kind(SparseKind::kBlockSparse);
  } else if (kind != "streaming") {
    throw InvalidInput("--kind: unknown '" + kind + "' (expected streaming or block_sparse)");
  }
  return options.with_score(score).with_topk_blocks(topk_blocks).with_tail(tail);
}

}  // namespace headscope::cli
