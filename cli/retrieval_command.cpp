// headscope retrieval MODEL --out FILE.h5 [--append|--force] [--length 256,512] [--depth 0,0.5,1]
//   [--needles FILE.jsonl] [--haystack FILE] [--semantics steps|set] [--threshold 0.1]
//   [--export-json PATH] [--device cpu|cuda] [--quiet] ...
#include <algorithm>
#include <iomanip>
#include <iostream>
#include <optional>

#include "analyses/retrieval/retrieval_file.h"
#include "analyses/retrieval/retrieval_heads.h"
#include "analyses/retrieval/retrieval_sample_codec.h"
#include "cli/choice_option.h"
#include "cli/cli_args.h"
#include "cli/commands.h"
#include "cli/distributed_scan.h"
#include "cli/option_groups.h"
#include "core/base/error.h"
#include "core/base/progress_bar.h"
#include "core/store/analysis_writer.h"
#include "hooks/activation_recorder.h"

namespace headscope::cli {
namespace {

constexpr int kTopHeadsShown = 10;

struct RetrievalArgs {
  ModelArgs model;
  OutputArgs out;
  std::vector<int64_t> lengths;
  std::vector<double> depths;
  std::string needles;
  std::string haystack;
  std::string question_template;
  RetrievalSemantics semantics = RetrievalSemantics::kSteps;
  double threshold = 0.1;
  int64_t max_new_tokens = 50;
  std::string tokenizer;
  std::string export_json;
  uint64_t seed = 0;
  bool quiet = false;
};

// Every prompt within the model's context (its few decoding steps may pass it on a rotary
// model; learned positions are checked with them by detect_retrieval_heads), and the longest
// sample's cache within memory, before the first sample runs.
void check_lengths(const Transformer& model, const RetrievalOptions& options, bool allow_long) {
  const ModelConfig& c = model.config();
  int64_t longest = 0;
  for (int64_t length : options.lengths) {
    check_context(c, length, allow_long, "--length " + std::to_string(length));
    longest = std::max(longest, length + options.max_new_tokens);
  }
  ForwardShape prefill;
  prefill.tokens = longest;
  prefill.logit_positions = 1;
  const auto element_size = static_cast<int64_t>(torch::elementSize(model.dtype()));
  check_placement_fits(
      model.placement(), forward_bytes(c, prefill, element_size),
      kv_cache_bytes(c, 1, longest, element_size) / static_cast<double>(c.n_layers),
      "a retrieval sample of " + std::to_string(longest) + " tokens (--length)");
}

void print_summary(const RetrievalHeadResult& result, const std::string& out) {
  const RetrievalOptions& options = result.options;
  std::cout << "retrieval heads: " << result.accepted << " of " << result.samples.size()
            << " samples accepted (ROUGE-1 recall > " << options.min_rouge << "), "
            << result.retrieval_heads.size() << " heads score > " << options.threshold << "\n";
  if (result.accepted == 0) {
    std::cout << "  no sample was accepted: the model did not answer any needle, so every score "
                 "is 0\n";
  }
  const int64_t heads = result.score.size(1);
  const double* score = result.score.data_ptr<double>();
  int shown = 0;
  for (const auto& [layer, head] : result.retrieval_heads) {
    if (shown++ == kTopHeadsShown) break;
    std::cout << "  " << layer << "-" << head << "  " << std::fixed << std::setprecision(3)
              << score[layer * heads + head] << "\n";
  }
  std::cout << "wrote /analyses/" << kRetrievalAnalysis << " to " << out << "\n";
}

void run(const RetrievalArgs& args) {
  const OutputMode mode = output_mode(args.out, OutputKind::kAnalysisFile);
  check_output_file(args.export_json, "--export-json");
  const RetrievalSemantics semantics = args.semantics;
  // Input files are read before the model, whose loading is the slow part.
  std::vector<Needle> needles;
  if (!args.needles.empty()) needles = load_needles_jsonl(args.needles);
  std::string haystack;
  if (!args.haystack.empty()) haystack = load_haystack_text(args.haystack);
  // Under torchrun or mpirun each rank runs its share of the grid; rank 0 writes.
  DistributedScan scan;
  auto model = load_model(scan.rank_model(args.model));
  std::optional<Tokenizer> tokenizer =
      args.tokenizer.empty() ? tokenizer_for(args.model.dir) : Tokenizer::load(args.tokenizer);
  if (!tokenizer) {
    throw InvalidInput(args.model.dir +
                       " has no tokenizer.json (or encoder.json + vocab.bpe); give --tokenizer");
  }

  RetrievalOptions options = RetrievalOptions::for_model(model->config());
  options.with_semantics(semantics).with_threshold(args.threshold).with_seed(args.seed);
  options.with_max_new_tokens(args.max_new_tokens);
  if (!args.lengths.empty()) options.with_lengths(args.lengths);
  if (!args.depths.empty()) options.with_depths(args.depths);
  if (!needles.empty()) options.with_needles(std::move(needles));
  if (!haystack.empty()) options.with_haystack(std::move(haystack), args.haystack);
  if (!args.question_template.empty()) options.with_question_template(args.question_template);
  const ModelSummary summary = summarize(*model);
  // Checked now, not after the detection: the target must take the result when it is ready.
  check_analysis_target(args.out.path, summary, mode);
  check_lengths(*model, options, args.model.allow_long_context);

  options.only_samples = scan.share(retrieval_sample_costs(options));
  const std::string label = scan.distributed()
                                ? "retrieval (rank " + std::to_string(scan.group().rank()) + ")"
                                : "retrieval";
  // Every rank shows its share's progress: a stalled rank is then visible.
  ProgressBar progress(label, static_cast<int64_t>(options.only_samples.size()), args.quiet);
  options.with_progress([&progress](int64_t done, int64_t all) {
    progress.advance(1, "sample " + std::to_string(done) + "/" + std::to_string(all));
  });
  RetrievalHeadResult result;
  const std::vector<std::string> parts = scan.gather([&] {
    result = detect_retrieval_heads(*model, *tokenizer, options);
    return scan.distributed() ? encode_retrieval_samples(result.samples) : std::string();
  });
  if (!scan.root()) return;
  if (scan.distributed()) {
    result.samples.clear();
    for (size_t rank = 0; rank < parts.size(); ++rank) {
      for (RetrievalSample& sample :
           decode_retrieval_samples(parts[rank], "results of rank " + std::to_string(rank))) {
        result.samples.push_back(std::move(sample));
      }
    }
    std::sort(result.samples.begin(), result.samples.end(),
              [](const RetrievalSample& a, const RetrievalSample& b) { return a.index < b.index; });
  }
  result.options.only_samples.clear();
  score_retrieval_samples(result, model->config());

  // A new or replacing file appears complete or not at all (AnalysisWriter stages it).
  write_retrieval_heads({args.out.path, summary, mode}, result, args.model.dir);
  if (!args.export_json.empty()) export_retrieval_json(args.export_json, result);
  if (!args.quiet) print_summary(result, args.out.path);
}

}  // namespace

void add_retrieval_command(CLI::App& app) {
  auto args = std::make_shared<RetrievalArgs>();
  auto* cmd = app.add_subcommand(
      "retrieval", "Detect retrieval heads (Wu et al. 2024) with needle-in-a-haystack decoding");
  ModelOptionSet model;
  model.long_context = true;
  add_model_options(*cmd, args->model, model);
  add_output_options(*cmd, args->out, OutputKind::kAnalysisFile,
                     "Output HDF5 file (/analyses/retrieval_heads/)", true);
  cmd->add_option("--length", args->lengths,
                  "Prompt lengths in tokens, comma-separated (default: 4 up to the context)")
      ->delimiter(',')
      ->check(integer_in(2, kMaxTokens));
  cmd->add_option("--depth", args->depths,
                  "Needle depths in [0, 1], comma-separated (default: 10 from 0 to 1)")
      ->delimiter(',')
      ->check(number_in(0.0, 1.0));
  cmd->add_option("--needles", args->needles,
                  "JSONL file, one {\"needle\", \"question\", \"answer\"} per line");
  cmd->add_option("--haystack", args->haystack, "Haystack text file (default: built-in filler)");
  cmd->add_option("--question-template", args->question_template,
                  "Text after the haystack; {question} is replaced by the needle's question");
  add_choice_option(*cmd, "--semantics", args->semantics,
                    choices_named(kRetrievalSemantics, retrieval_semantics_name),
                    "steps: count decoding steps (original); set: each answer token once");
  cmd->add_option("--threshold", args->threshold, "Retrieval heads score above this")
      ->capture_default_str()
      ->check(number_in(0.0, 1.0));
  cmd->add_option("--max-new-tokens", args->max_new_tokens, "Decoding steps per sample")
      ->capture_default_str()
      ->check(integer_in(1, kMaxDecodingSteps));
  cmd->add_option("--tokenizer", args->tokenizer,
                  "tokenizer.json or a folder holding one (default: the model's)");
  cmd->add_option("--export-json", args->export_json,
                  "Also write Retrieval_Head's {\"L-H\": [scores]} JSON here");
  cmd->add_option("--seed", args->seed, "Seed of the built-in filler text")
      ->capture_default_str()
      ->check(integer_in(0, kMaxSeed));
  add_quiet_flag(*cmd, args->quiet, "No progress bar or summary");
  cmd->callback([args] { run(*args); });
}

}  // namespace headscope::cli
