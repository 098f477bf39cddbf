// headscope sparse-config FILE.h5 --format duo|moa|minference|headscope --out DIR
//   [--sparsity S] [--sink N] [--window N] [--score auto|retrieval|stats]
//   [--kind streaming|block_sparse] [--block-size B] [--topk-blocks K] [--coverage C]
// headscope sparse-config --from-snr SNR.h5 --out DIR [--recall R] [--budget X] [--length T]
//   [--sink N] [--window N]
#include <filesystem>
#include <iostream>

#include "analyses/sparse/head_evidence.h"
#include "analyses/sparse/snr_sparse_config.h"
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
  std::string input, from_snr, out;
  SparseFormat format = SparseFormat::kHeadscope;
  bool format_given = false;  // --format was on the command line
  std::optional<double> sparsity;
  SparseHeadArgs heads;
  double coverage = 0.9;
  int64_t max_runs = 0;
  SnrConfigOptions snr;
  bool quiet = false;
};

// Per-head block sizes only the headscope format carries (docs/SPARSE_CONFIGS.md, "From SNR
// measurements").
void run_from_snr(const SparseConfigArgs& args) {
  if (args.format != SparseFormat::kHeadscope) {
    throw InvalidInput(std::string("--format ") + sparse_format_name(args.format) +
                       ": --from-snr writes per-head block sizes, which only --format headscope "
                       "carries");
  }
  SnrConfigOptions options = args.snr;
  if (args.heads.sink) options.sink = *args.heads.sink;
  if (args.heads.window) options.window = *args.heads.window;
  check_snr_config_options(options);
  const SnrRouting routing = read_snr_routing(args.from_snr);
  const SparseModelConfig config = config_from_snr(routing, options);
  std::filesystem::create_directories(args.out);
  const std::string path = (std::filesystem::path(args.out) / kSparseConfigFile).string();
  write_sparse_config(path, config);
  if (args.quiet) return;
  const auto& p = config.parameters;
  std::cout << "headscope config for " << routing.n_layers << " layers x " << routing.n_heads
            << " heads from sparsity SNR: " << p["block_sparse_heads"].get<int64_t>()
            << " block-sparse, " << p["streaming_heads"].get<int64_t>()
            << " streaming, kept fraction " << p["kept_fraction"].get<double>() << " at "
            << p["length"].get<int64_t>() << " tokens\n  " << path << "\n";
}

void run(const SparseConfigArgs& args) {
  check_output_dir(args.out, "--out");
  if (!args.from_snr.empty()) return run_from_snr(args);
  if (args.input.empty()) throw InvalidInput("sparse-config: needs FILE or --from-snr FILE");
  if (!args.format_given) throw InvalidInput("--format: required without --from-snr");
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
  auto* input = cmd->add_option("FILE", args->input,
                                "HDF5 file with /analyses/retrieval_heads/score and/or recorded "
                                "attention_stats");
  auto* from_snr = cmd->add_option("--from-snr", args->from_snr,
                                   "HDF5 file with /analyses/sparsity_snr (`headscope snr`): "
                                   "per-head block sizes and top-k from measured router recall")
                       ->excludes(input);
  auto* format =
      add_choice_option(*cmd, "--format", args->format,
                        choices_named(kSparseFormats, sparse_format_name),
                        "Config format to write (required without --from-snr; with it: headscope)")
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
  cmd->add_option("--recall", args->snr.recall,
                  "--from-snr: router recall@k a block-sparse head must reach, in (0, 1]")
      ->capture_default_str()
      ->check(number_in(0.0, 1.0))
      ->needs(from_snr);
  cmd->add_option("--budget", args->snr.budget,
                  "--from-snr: largest kept fraction of a block-sparse head, in (0, 1]")
      ->capture_default_str()
      ->check(number_in(0.0, 1.0))
      ->needs(from_snr);
  cmd->add_option("--length", args->snr.length,
                  "--from-snr: tokens at which the kept fraction is evaluated (default: the "
                  "SNR samples' length)")
      ->check(integer_in(1, kMaxTokens))
      ->needs(from_snr);
  for (const char* ranking : {"--sparsity", "--score", "--kind", "--block-size", "--topk-blocks",
                              "--tail", "--coverage", "--max-runs"}) {
    from_snr->excludes(cmd->get_option(ranking));
  }
  add_quiet_flag(*cmd, args->quiet, "No summary");
  cmd->callback([args, format] {
    args->format_given = format->count() > 0;
    run(*args);
  });
}

}  // namespace headscope::cli
