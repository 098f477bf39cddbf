#include "cli/sparse_head_args.h"

#include "cli/choice_option.h"
#include "cli/cli_args.h"

namespace headscope::cli {

void SparseHeadArgs::add_options(CLI::App& cmd) {
  cmd.add_option("--score", score,
                 "What ranks heads: auto (retrieval if present), retrieval, stats")
      ->capture_default_str()
      ->check(one_of({"auto", "retrieval", "stats"}));
  add_choice_option(cmd, "--kind", kind,
                    choices_named({SparseKind::kStreaming, SparseKind::kBlockSparse},
                                  sparse_kind_name),
                    "What the sparse heads become");
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
  return options.with_sparse_kind(kind)
      .with_score(score).with_topk_blocks(topk_blocks).with_tail(tail);
}

}  // namespace headscope::cli
