// headscope sparse-config FILE.h5 --format duo|moa|minference|headscope --out DIR
//   [--sparsity S] [--sink N] [--window N] [--score auto|retrieval|stats]
//   [--kind streaming|block_sparse] [--block-size B] [--topk-blocks K] [--coverage C]
#include <iostream>

#include "analyses/sparse/head_evidence.h"
#include "analyses/sparse/sparse_config_formats.h"
#include "cli/choice_option.h"
#include "cli/cli_args.h"
#include "cli/commands.h"
#include "cli/option_groups.h"
#include "cli/sparse_head_args.h"
#include "core/base/error.h"

namespace headscope::cli {
namespace {

struct SparseConfigArgs {
  std::string input, out;
  SparseFormat format = SparseFormat::kDuo;
  std::optional<double> sparsity;
  SparseHeadArgs heads;
  double coverage = 0.9;
  int64_t max_runs = 0;
  bool quiet = false;
};

void run(const SparseConfigArgs& args) {
  check_output_dir(args.out, "--out");
  const SparseFormat format = args.format;
  SparseConfigOptions options = args.heads.config_options();
  options.sparsity = args.sparsity;
  options.with_coverage(args.coverage);
  check_sparse_config_options(options);
  if (args.max_runs < 0) throw InvalidInput("--max-runs: expected >= 0");
  const auto evidence = read_head_evidence(args.input, args.max_runs);
  const auto result = write_sparse_configs(evidence, format, args.out, options);
  if (args.quiet) return;
  std::cout << sparse_format_name(format) << " config for " << evidence.n_layers << " layers x "
            << evidence.n_heads << " heads (" << evidence.n_kv_heads << " KV heads)";
  if (!result.score_source.empty()) std::cout << ", heads ranked by " << result.score_source;
  if (result.sparse_fraction > 0.0) {
    std::cout << ", " << result.sparse_fraction * 100.0 << "% of heads sparse";
  }
  std::cout << "\n";
  for (const auto& file : result.files) std::cout << "  " << file << "\n";
}

}  // namespace

void add_sparse_config_command(CLI::App& app) {
  auto args = std::make_shared<SparseConfigArgs>();
  auto* cmd =
      app.add_subcommand("sparse-config",
                         "Per-head sparse-attention configs (DuoAttention, MoA, MInference, "
                         "headscope) from retrieval scores and/or attention statistics");
  cmd->add_option("FILE", args->input,
                  "HDF5 file with /analyses/retrieval_heads/score and/or recorded "
                  "attention_stats")
      ->required();
  add_choice_option(*cmd, "--format", args->format,
                    choices_named(kSparseFormats, sparse_format_name), "Config format to write")
      ->required()
      ->default_str("");
  cmd->add_option("--out", args->out, "Output directory")->required();
  cmd->add_option("--sparsity", args->sparsity,
                  "Fraction of heads made streaming/sparse (headscope: default 0.5; duo: 0/1 "
                  "gates instead of scores)")
      ->check(number_in(0.0, 1.0));
  args->heads.add_options(*cmd);
  cmd->add_option("--coverage", args->coverage,
                  "moa: attention mass each span must hold, in (0, 1]")
      ->capture_default_str()
      ->check(number_in(0.0, 1.0));
  cmd->add_option("--max-runs", args->max_runs, "Statistics runs to read (0: all)")
      ->capture_default_str()
      ->check(integer_in(0, kMaxCount));
  add_quiet_flag(*cmd, args->quiet, "No summary");
  cmd->callback([args] { run(*args); });
}

}  // namespace headscope::cli
