// headscope snr MODEL (--task niah|induction|ioi [--n N] [--length L] [--seed S] |
//   --dataset FILE.jsonl)
//   [--block-sizes 16,32,64,128,256] [--topk-blocks 1,2,4,8] [--key-conv W]
//   [--recall-target R] [--device D] [--dtype T] [--out FILE.h5 [--append|--force]]
//   [--png FILE] [--curves-png FILE [--curves-heads N]] [--json] [--quiet]
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "analyses/ablation/evaluation_samples.h"
#include "analyses/snr/snr_dataset.h"
#include "analyses/snr/snr_head_curves.h"
#include "analyses/snr/snr_output.h"
#include "analyses/snr/sparsity_snr.h"
#include "cli/cli_args.h"
#include "cli/commands.h"
#include "cli/distributed_scan.h"
#include "cli/option_groups.h"
#include "core/base/error.h"
#include "core/store/snr_schema.h"
#include "hooks/activation_recorder.h"

#ifdef HEADSCOPE_WITH_GUI
#include "cli/gui_application.h"
#include "gui/render/head_grid_image.h"
#include "gui/render/line_chart_image.h"
#include "gui/render/png_file.h"
#endif

namespace headscope::cli {
namespace {

struct SnrArgs {
  ModelArgs model;
  SampleArgs samples;
  std::string dataset;
  bool sample_options_given = false;  // --n, --length or --seed on the command line
  OutputArgs out;
  SnrOptions options;
  double recall_target = 0.95;
  std::string png;
  std::string curves_png;
  int64_t curves_heads = 8;
  bool json = false, quiet = false;
};

// The largest block size whose recall at the largest k reaches `target` for this head (the
// cheapest routing that keeps it), NaN where none does.
double largest_block_reaching(const SnrResult& r, int64_t layer, int64_t head, double target) {
  double best = std::nan("");
  for (size_t b = 0; b < r.options.block_sizes.size(); ++b) {
    if (r.at(layer, head, b).recall.back() >= target) {
      best = static_cast<double>(r.options.block_sizes[b]);
    }
  }
  return best;
}

void print_text(const SnrResult& r, const SnrSource& source) {
  const std::vector<int64_t>& sizes = r.options.block_sizes;
  // IOI prompts have their own length; --length applies to niah and induction.
  const std::string length =
      source.task == "ioi" ? "" : ", length " + std::to_string(source.length);
  std::printf("sparsity SNR: %s, n=%lld%s, seed %llu; key-conv %lld; %zu queries, %.2f s\n",
              source.task.c_str(), static_cast<long long>(source.samples), length.c_str(),
              static_cast<unsigned long long>(source.seed),
              static_cast<long long>(r.options.key_conv), r.queries.size(), r.seconds);
  std::printf("routed queries (relevant key before the query's own block):");
  for (size_t b = 0; b < sizes.size(); ++b) {
    std::printf("%s B=%lld: %lld", b == 0 ? "" : ",", static_cast<long long>(sizes[b]),
                static_cast<long long>(r.at(0, 0, b).routed));
  }
  std::printf(
      "\nper head: key-level gap Δμ and noise σ of the scaled scores; per block size: SNR "
      "measured / theory, recall@%lld (predicted)\n",
      static_cast<long long>(r.options.topk.front()));
  std::printf("layer head      Δμ       σ");
  for (const int64_t size : sizes) std::printf(" | B=%-21lld", static_cast<long long>(size));
  std::printf("\n");
  for (int64_t l = 0; l < r.layers; ++l) {
    for (int64_t h = 0; h < r.heads; ++h) {
      const auto slot = static_cast<size_t>(l * r.heads + h);
      std::printf("%5lld %4lld %7.3f %7.3f", static_cast<long long>(l), static_cast<long long>(h),
                  r.delta_mu[slot], r.sigma[slot]);
      for (size_t b = 0; b < sizes.size(); ++b) {
        const RoutingSummary& s = r.at(l, h, b);
        std::printf(" | %5.2f/%5.2f %4.2f (%4.2f)", s.snr_measured,
                    r.snr_theory[slot * sizes.size() + b], s.recall.front(),
                    s.predicted_recall.front());
      }
      std::printf("\n");
    }
  }
}

nlohmann::ordered_json result_json(const SnrResult& r, const SnrSource& source) {
  nlohmann::ordered_json heads = nlohmann::ordered_json::array();
  const size_t n_blocks = r.options.block_sizes.size();
  for (int64_t l = 0; l < r.layers; ++l) {
    for (int64_t h = 0; h < r.heads; ++h) {
      const auto slot = static_cast<size_t>(l * r.heads + h);
      nlohmann::ordered_json head{
          {"layer", l}, {"head", h}, {"delta_mu", r.delta_mu[slot]}, {"sigma", r.sigma[slot]}};
      for (size_t b = 0; b < n_blocks; ++b) {
        const RoutingSummary& s = r.at(l, h, b);
        head["snr_theory"].push_back(r.snr_theory[slot * n_blocks + b]);
        head["snr_measured"].push_back(s.snr_measured);
        head["delta_mu_eff"].push_back(s.delta_mu_eff);
        head["sigma_block"].push_back(s.sigma_block);
        head["mean_rank"].push_back(s.mean_rank);
        head["pairwise_error"].push_back(s.pairwise_error);
        head["predicted_error"].push_back(s.predicted_error);
        head["recall"].push_back(s.recall);
        head["predicted_recall"].push_back(s.predicted_recall);
      }
      heads.push_back(head);
    }
  }
  std::vector<int64_t> routed;
  for (size_t b = 0; b < n_blocks; ++b) routed.push_back(r.at(0, 0, b).routed);
  // NaN (a head without routed queries) is written as null by nlohmann.
  return {{"task", source.task},
          {"samples", source.samples},
          {"length", source.length},
          {"seed", source.seed},
          {"key_conv", r.options.key_conv},
          {"block_sizes", r.options.block_sizes},
          {"topk_blocks", r.options.topk},
          {"queries", r.queries.size()},
          {"routed_queries", routed},
          {"seconds", r.seconds},
          {"heads", heads}};
}

#ifdef HEADSCOPE_WITH_GUI
void draw_block_sizes(const std::string& path, const SnrResult& r, double target) {
  char title[160];
  std::snprintf(title, sizeof title, "largest block size with recall@%lld >= %.2f (hatched: none)",
                static_cast<long long>(r.options.topk.back()), target);
  HeadGrid grid{title, "block size", {}};
  for (int64_t l = 0; l < r.layers; ++l) {
    grid.value.emplace_back();
    for (int64_t h = 0; h < r.heads; ++h) {
      grid.value.back().push_back(largest_block_reaching(r, l, h, target));
    }
  }
  const HeadGridImageOptions options =
      HeadGridImageOptions().with_range(static_cast<double>(r.options.block_sizes.front()),
                                        static_cast<double>(r.options.block_sizes.back()));
  const GuiApplication gui;
  QImage image(head_grid_image_size(grid, options), QImage::Format_RGB32);
  draw_head_grid(grid, image, options);
  write_png(image, path);
}

const QColor kMeasuredColour(40, 110, 170);
const QColor kTheoryColour(230, 120, 30);

// recall@k's colour for the k-th value of --topk-blocks.
QColor topk_colour(size_t k) {
  static const QColor kColours[] = {{40, 110, 170}, {230, 120, 30}, {60, 150, 60},
                                    {200, 50, 50},  {130, 90, 170}, {140, 90, 60}};
  return kColours[k % (sizeof kColours / sizeof kColours[0])];
}

// A head's two charts: SNR against block size (measured points, the model's curve dashed, from
// 0) and recall@k (measured points, predicted dashed, 0 to 1) for every k.
void add_head_charts(const SnrHeadCurves& c, std::vector<LineChart>& charts) {
  const QString head = QStringLiteral("head %1.%2").arg(c.layer).arg(c.head);
  LineChart snr;
  snr.title = QStringLiteral("SNR of %1").arg(head);
  snr.x_label = QStringLiteral("block size B");
  snr.y_label = QStringLiteral("SNR");
  snr.log_x = true;
  snr.y_span = {0.0};
  snr.series.push_back(
      {QStringLiteral("measured"), kMeasuredColour, c.block_sizes, c.snr_measured});
  snr.series.push_back({QStringLiteral("theory Δμ/(σ√2B)"), kTheoryColour, c.theory_block_sizes,
                        c.snr_theory, true, false});
  charts.push_back(std::move(snr));
  LineChart recall;
  recall.title = QStringLiteral("recall@k of %1 (dashed: predicted)").arg(head);
  recall.x_label = QStringLiteral("block size B");
  recall.y_label = QStringLiteral("router recall@k");
  recall.log_x = true;
  recall.y_span = {0.0, 1.0};
  for (size_t k = 0; k < c.topk.size(); ++k) {
    const QColor colour = topk_colour(k);
    recall.series.push_back(
        {QStringLiteral("k = %1").arg(c.topk[k]), colour, c.block_sizes, c.recall[k]});
    recall.series.push_back({{}, colour, c.block_sizes, c.predicted_recall[k], true, false});
  }
  charts.push_back(std::move(recall));
}

void draw_curves(const std::string& path, const SnrResult& r, int64_t count) {
  std::vector<LineChart> charts;
  for (const SnrHead& head : snr_curve_heads(r, count)) {
    add_head_charts(snr_head_curves(r, head.layer, head.head), charts);
  }
  // Two heads (four charts) per row.
  const ChartPanelsOptions options =
      ChartPanelsOptions()
          .with_columns(charts.size() > 2 ? 4 : 2)
          .with_title(QStringLiteral(
              "sparsity SNR and router recall@k against block size: measured (dots), the "
              "single-key model and the Gaussian prediction (dashed)"));
  const GuiApplication gui;
  write_png(chart_panels_image(charts, options), path);
}
#endif

// The samples and queries of --task or --dataset, and the source the output records.
void load_queries(const SnrArgs& args, const ModelConfig& config, std::vector<TaskSample>& samples,
                  std::vector<SnrQuery>& queries, SnrSource& source, int64_t& longest) {
  if (!args.dataset.empty()) {
    SnrPrompts dataset = read_snr_dataset(args.dataset, config);
    source.task = "dataset";
    source.dataset = args.dataset;
    source.samples = static_cast<int64_t>(dataset.samples.size());
    source.length = dataset.longest;
    check_context(config, source.length, args.model.allow_long_context,
                  args.dataset + " (" + std::to_string(source.length) + " tokens)");
    samples = std::move(dataset.samples);
    queries = std::move(dataset.queries);
    longest = dataset.longest;
    return;
  }
  source.task = args.samples.task;
  source.samples = args.samples.n;
  source.length = sample_length(args.samples, config);
  source.seed = args.samples.seed;
  check_context(config, source.length, args.model.allow_long_context,
                "--length " + std::to_string(source.length));
  samples = evaluation_samples(config, source.task, source.samples, source.length, source.seed);
  longest = 0;
  for (size_t i = 0; i < samples.size(); ++i) {
    const std::vector<SnrQuery> more = snr_queries(samples[i], static_cast<int64_t>(i));
    queries.insert(queries.end(), more.begin(), more.end());
    longest = std::max(longest, static_cast<int64_t>(samples[i].tokens.size()));
  }
}

void run(const SnrArgs& args) {
  check_task_or_dataset(args.samples, args.dataset, args.sample_options_given, "snr");
  const std::vector<std::string>& tasks = snr_task_names();
  if (args.dataset.empty() &&
      std::find(tasks.begin(), tasks.end(), args.samples.task) == tasks.end()) {
    throw InvalidInput("--task: snr needs known relevant keys: niah, induction or ioi, not '" +
                       args.samples.task + "'");
  }
#ifndef HEADSCOPE_WITH_GUI
  if (!args.png.empty()) throw InvalidInput("--png: this build has no Qt 6 to draw with");
  if (!args.curves_png.empty()) {
    throw InvalidInput("--curves-png: this build has no Qt 6 to draw with");
  }
#endif
  if (!args.png.empty()) check_output_file(args.png, "--png");
  if (!args.curves_png.empty()) check_output_file(args.curves_png, "--curves-png");
  const OutputMode mode = output_mode(args.out, OutputKind::kAnalysisFile);
  DistributedScan scan;
  const auto model = load_model(scan.rank_model(args.model));
  const ModelConfig& config = model->config();

  SnrSource source;
  source.device = args.model.device;
  source.dtype = args.model.dtype;
  source.attention_scale = model->attention_scale();
  std::vector<TaskSample> samples;
  std::vector<SnrQuery> queries;
  int64_t longest = 0;
  load_queries(args, config, samples, queries, source, longest);
  const SnrOptions options = SnrOptions(args.options).with_quiet(args.quiet || args.json);
  check_snr_options(options, queries);
  ForwardShape shape;
  shape.batch = 1;
  shape.tokens = longest;
  shape.logit_positions = 0;
  check_forward_fits(*model, shape, "one sample of " + std::to_string(longest) + " tokens",
                     "lower --length");
  const ModelSummary summary = summarize(*model);
  if (!args.out.path.empty()) check_analysis_target(args.out.path, summary, mode);

  HookedModel hooked(model);
  // Under a launch each rank runs its share of the samples; every rank ends with the result.
  const SnrResult result = sparsity_snr(hooked, samples, queries, options, scan.work_split());
  if (!scan.root()) return;
  if (!args.out.path.empty()) write_sparsity_snr({args.out.path, summary, mode}, result, source);
#ifdef HEADSCOPE_WITH_GUI
  if (!args.png.empty()) draw_block_sizes(args.png, result, args.recall_target);
  if (!args.curves_png.empty()) draw_curves(args.curves_png, result, args.curves_heads);
#endif
  if (args.json) {
    std::cout << result_json(result, source).dump() << "\n";
    return;
  }
  print_text(result, source);
  if (!args.out.path.empty()) {
    std::cout << "wrote /analyses/" << kSparsitySnrAnalysis << " to " << args.out.path << "\n";
  }
  if (!args.png.empty()) std::cout << "wrote " << args.png << "\n";
  if (!args.curves_png.empty()) std::cout << "wrote " << args.curves_png << "\n";
}

}  // namespace

void add_snr_command(CLI::App& app) {
  auto args = std::make_shared<SnrArgs>();
  auto* cmd = app.add_subcommand(
      "snr",
      "Sparsity SNR per head: how well block routing (top-k blocks by q · mean(K)) finds the "
      "keys a task needs, measured and as the Gaussian model predicts (docs/SNR.md)");
  ModelOptionSet model;
  model.help = "Model directory (a zoo model: the tasks use its vocabulary)";
  model.default_dtype = "f32";
  model.long_context = true;
  add_model_options(*cmd, args->model, model);
  SampleDefaults defaults;
  defaults.n = 10;
  defaults.with_batch = false;
  defaults.task_required = false;
  add_sample_options(*cmd, args->samples, defaults);
  cmd->add_option("--dataset", args->dataset,
                  "JSON Lines of your own prompts: tokens (ids) and queries (position, relevant "
                  "key positions), one sample per line (docs/SNR.md)");
  cmd->add_option("--block-sizes", args->options.block_sizes,
                  "Key block sizes B, comma-separated, increasing")
      ->delimiter(',')
      ->check(integer_in(1, kMaxStatsParameter))
      ->default_str("16,32,64,128,256");
  cmd->add_option("--topk-blocks", args->options.topk,
                  "Routed blocks k for recall@k, comma-separated, increasing")
      ->delimiter(',')
      ->check(integer_in(1, kMaxStatsParameter))
      ->default_str("1,2,4,8");
  cmd->add_option("--key-conv", args->options.key_conv,
                  "Smooth keys by a causal mean over W keys before pooling (1: none)")
      ->check(integer_in(1, kMaxStatsParameter))
      ->capture_default_str();
  cmd->add_option("--recall-target", args->recall_target,
                  "Recall the --png grid asks of a block size (at the largest --topk-blocks)")
      ->check(number_in(0.0, 1.0))
      ->capture_default_str();
  add_output_options(*cmd, args->out, OutputKind::kAnalysisFile,
                     "HDF5 file to write /analyses/sparsity_snr into", false);
  cmd->add_option("--png", args->png,
                  "PNG file: layer x head grid of the largest block size reaching "
                  "--recall-target");
  auto* curves = cmd->add_option(
      "--curves-png", args->curves_png,
      "PNG file: per head, SNR and recall@k against block size, measured beside the "
      "model's prediction");
  cmd->add_option("--curves-heads", args->curves_heads,
                  "Heads --curves-png plots: the N with the highest measured SNR at the "
                  "smallest block size (0: every head, in layer order)")
      ->check(integer_in(0, kMaxStatsParameter))
      ->capture_default_str()
      ->needs(curves);
  add_json_flag(*cmd, args->json);
  add_quiet_flag(*cmd, args->quiet);
  cmd->callback([args, cmd] {
    args->sample_options_given = sample_options_given(*cmd);
    run(*args);
  });
}

}  // namespace headscope::cli
