// headscope sparse-eval MODEL [--config DIR] [--scores FILE.h5 --sparsity 0.25,0.5]
//   [--random-configs N] [--task niah] [--n N] [--length 256,512] [--export-json PATH]
//   [--out FILE.h5 [--append|--force]]
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "analyses/sparse/head_evidence.h"
#include "analyses/sparse/sparse_config_formats.h"
#include "analyses/sparse/sparse_eval.h"
#include "analyses/sparse/sparse_eval_output.h"
#include "analyses/tasks/generate_task.h"
#include "cli/cli_args.h"
#include "cli/commands.h"
#include "cli/distributed_scan.h"
#include "cli/option_groups.h"
#include "cli/sparse_head_args.h"
#include "core/base/error.h"
#include "core/base/text_file.h"
#include "core/store/analysis_writer.h"
#include "dist/byte_codec.h"
#include "hooks/activation_recorder.h"

namespace headscope::cli {
namespace {

struct SparseEvalArgs {
  ModelArgs model;
  OutputArgs out;
  std::string config_dir, scores, task = "niah", export_json;
  std::vector<double> sparsities;
  std::vector<int64_t> lengths = {256};
  SparseHeadArgs heads;
  int64_t samples = 16, random = 2, batch = 4;
  uint64_t seed = 1;
  bool quiet = false;
};

// Every length within the model's context, and the longest batch's forward pass (logits at
// every position) within memory, before any sample runs.
void check_lengths(const Transformer& model, const SparseEvalArgs& args) {
  int64_t longest = 0;
  for (int64_t length : args.lengths) {
    check_context(model.config(), length, args.model.allow_long_context,
                  "--length " + std::to_string(length));
    longest = std::max(longest, length);
  }
  ForwardShape shape;
  shape.batch = std::min(args.batch, args.samples);
  shape.tokens = longest;
  shape.logit_positions = longest;
  check_forward_fits(model, shape,
                     "a batch of " + std::to_string(shape.batch) + " samples of " +
                         std::to_string(longest) + " tokens (--batch, --length)",
                     "lower --batch or --length");
}

std::string percent(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", v * 100.0);
  return buf;
}

// Under torchrun or mpirun each rank runs its share of every length's batches with every
// config; rank 0 adds the ranks' counts (integers: the same totals one process counts).
SparseEvalResult evaluate_distributed(DistributedScan& scan,
                                      const std::shared_ptr<const Transformer>& model,
                                      const std::vector<NamedSparseConfig>& configs,
                                      SparseEvalOptions options) {
  options.share = [&scan](const std::vector<double>& costs) { return scan.share(costs); };
  SparseEvalResult result;
  const std::vector<std::string> parts = scan.gather([&] {
    result = evaluate_sparse_configs(model, configs, options);
    ByteWriter out;
    for (const SparseEvalRow& row : result.rows) {
      out.put(row.samples);
      out.put(row.correct);
      out.put(row.answer_tokens);
      out.put(row.answer_tokens_right);
      out.put(static_cast<uint8_t>(row.measured_kept));
      out.put(row.kept_fraction);
    }
    return out.bytes();
  });
  if (!scan.root()) return result;
  std::vector<SparseEvalRow> combined = result.rows;
  for (SparseEvalRow& row : combined) row = {row.config, row.sparse_heads, row.length};
  for (size_t rank = 0; rank < parts.size(); ++rank) {
    ByteReader in(parts[rank], "sparse-eval counts of rank " + std::to_string(rank));
    std::vector<SparseEvalRow> part = combined;
    for (SparseEvalRow& row : part) {
      row.samples = in.get<int64_t>();
      row.correct = in.get<int64_t>();
      row.answer_tokens = in.get<int64_t>();
      row.answer_tokens_right = in.get<int64_t>();
      row.measured_kept = in.get<uint8_t>() != 0;
      row.kept_fraction = in.get<double>();
    }
    combine_sparse_eval_rows(combined, part);
  }
  result.rows = std::move(combined);
  return result;
}

void run(const SparseEvalArgs& args) {
  if (args.config_dir.empty() && args.scores.empty()) {
    throw InvalidInput("sparse-eval: give --config DIR and/or --scores FILE.h5 --sparsity ...");
  }
  if (!args.scores.empty() && args.sparsities.empty()) {
    throw InvalidInput("--scores needs --sparsity (e.g. 0.25,0.5,0.75)");
  }
  check_output_file(args.export_json, "--export-json");
  const OutputMode mode = output_mode(args.out, OutputKind::kAnalysisFile);
  SparseEvalOptions options;
  options.with_task(args.task)
      .with_samples(args.samples)
      .with_lengths(args.lengths)
      .with_seed(args.seed)
      .with_batch_size(args.batch)
      .with_quiet(args.quiet);
  DistributedScan scan;
  auto model = load_model(scan.rank_model(args.model));
  check_lengths(*model, args);
  const auto& mc = model->config();
  const ModelSummary summary = summarize(*model);
  if (!args.out.path.empty()) check_analysis_target(args.out.path, summary, mode);

  SparseEvalSources sources;
  sources.model_path = args.model.dir, sources.config_dir = args.config_dir;
  const SparseHeadArgs& heads = args.heads;
  sources.scores = args.scores, sources.random = args.random, sources.score = heads.score;
  sources.kind = sparse_kind_name(heads.kind), sources.tail = heads.tail, sources.topk_blocks = heads.topk_blocks;
  sources.sink = heads.sink.value_or(-1), sources.recent = heads.window.value_or(-1);
  sources.block_size = heads.block_size.value_or(-1);
  sources.device = args.model.device, sources.dtype = args.model.dtype;

  std::vector<NamedSparseConfig> configs = {
      {"dense", SparseModelConfig::dense(mc.n_layers, mc.n_heads)}};
  auto add_with_random = [&](const std::string& name, const SparseModelConfig& config) {
    configs.push_back({name, config});
    for (int64_t r = 0; r < args.random; ++r) {
      configs.push_back(
          {"random" +
               name.substr(name.find('@') == std::string::npos ? name.size() : name.find('@')) +
               "#" + std::to_string(r),
           shuffled_config(config, args.seed * 7919 + static_cast<uint64_t>(r))});
    }
  };
  if (!args.config_dir.empty()) {
    auto config = read_executable_config(args.config_dir, mc);
    add_with_random("config@" + percent(config.sparse_head_fraction()), config);
  }
  if (!args.scores.empty()) {
    const SparseConfigOptions o = heads.config_options();
    const auto evidence = read_head_evidence(args.scores);
    if (evidence.n_layers != mc.n_layers || evidence.n_heads != mc.n_heads) {
      throw InvalidInput(args.scores + ": scores for " + std::to_string(evidence.n_layers) +
                         " layers x " + std::to_string(evidence.n_heads) +
                         " heads, the model has " + std::to_string(mc.n_layers) + " x " +
                         std::to_string(mc.n_heads));
    }
    const auto ranking = rank_heads(evidence, o);
    const auto head = sparse_head_template(evidence, o);
    sources.sparsities = args.sparsities;
    for (double s : sources.sparsities) {
      auto config = config_from_scores(ranking.score, s, head);
      add_with_random(ranking.source + "@" + percent(config.sparse_head_fraction()), config);
    }
  }

  const SparseEvalResult result = scan.distributed()
                                      ? evaluate_distributed(scan, model, configs, options)
                                      : evaluate_sparse_configs(model, configs, options);
  if (!scan.root()) return;

  nlohmann::ordered_json out;
  out["parameters"] = {
      {"model", args.model.dir},       {"config", args.config_dir},   {"scores", args.scores},
      {"sparsities", args.sparsities}, {"task", args.task},           {"samples", args.samples},
      {"lengths", options.lengths},    {"seed", args.seed},           {"random", args.random},
      {"score", heads.score},          {"kind", sparse_kind_name(heads.kind)},          {"tail", heads.tail},
      {"device", args.model.device},   {"dtype", args.model.dtype},   {"batch", args.batch}};
  auto rows = nlohmann::ordered_json::array();
  for (const auto& r : result.rows) {
    rows.push_back({{"config", r.config},
                    {"sparse_heads", r.sparse_heads},
                    {"length", r.length},
                    {"samples", r.samples},
                    {"accuracy", r.accuracy},
                    {"token_accuracy", r.token_accuracy},
                    {"kept_fraction", r.kept_fraction}});
  }
  out["rows"] = rows;
  if (!args.export_json.empty()) {
    write_text_file_atomically(args.export_json, out.dump(2) + "\n");
  }
  if (!args.out.path.empty()) {
    write_sparse_eval({args.out.path, summary, mode}, configs, result, options, sources);
  }
  if (args.quiet) return;
  std::printf("%-24s %8s %7s %9s %9s %7s\n", "config", "sparse", "length", "accuracy", "tok.acc",
              "kept");
  for (const auto& r : result.rows) {
    std::printf("%-24s %8s %7lld %9s %9s %7s\n", r.config.c_str(), percent(r.sparse_heads).c_str(),
                static_cast<long long>(r.length), percent(r.accuracy).c_str(),
                percent(r.token_accuracy).c_str(), percent(r.kept_fraction).c_str());
  }
}

}  // namespace

void add_sparse_eval_command(CLI::App& app) {
  auto args = std::make_shared<SparseEvalArgs>();
  auto* cmd = app.add_subcommand(
      "sparse-eval", "Task accuracy and kept attention of sparse configs against dense");
  ModelOptionSet model;
  model.long_context = true;
  add_model_options(*cmd, args->model, model);
  cmd->add_option("--config", args->config_dir,
                  "Directory with sparse_config.json or DuoAttention files");
  cmd->add_option("--scores", args->scores,
                  "HDF5 file with retrieval scores and/or attention stats: derive configs");
  cmd->add_option("--sparsity", args->sparsities,
                  "Fractions of heads made sparse for --scores, comma-separated")
      ->delimiter(',')
      ->check(number_in(0.0, 1.0));
  cmd->add_option("--random-configs", args->random,
                  "Random configs with the same number of sparse heads per evaluated config "
                  "(seeded)")
      ->capture_default_str()
      ->check(integer_in(0, kMaxRandomConfigs));
  cmd->add_option("--task", args->task, "niah, ioi, colors or induction")
      ->capture_default_str()
      ->check(one_of(task_names()));
  cmd->add_option("--n", args->samples, "Samples per length")
      ->capture_default_str()
      ->check(integer_in(1, kMaxSamples));
  cmd->add_option("--length", args->lengths,
                  "Context lengths, comma-separated (within the model's context)")
      ->capture_default_str()
      ->delimiter(',')
      ->check(integer_in(2, kMaxTokens));
  cmd->add_option("--seed", args->seed, "Seed of the samples and random configs")
      ->capture_default_str()
      ->check(integer_in(0, kMaxSeed));
  cmd->add_option("--batch", args->batch, "Samples per forward pass")
      ->capture_default_str()
      ->check(integer_in(1, kMaxBatch));
  args->heads.add_options(*cmd);
  cmd->add_option("--export-json", args->export_json,
                  "Also write the parameters and results as JSON here");
  add_output_options(*cmd, args->out, OutputKind::kAnalysisFile,
                     "Also write /analyses/sparse_eval into this HDF5 file", false);
  add_quiet_flag(*cmd, args->quiet, "No progress bar or table");
  cmd->callback([args] { run(*args); });
}

}  // namespace headscope::cli
