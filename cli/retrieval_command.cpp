// headscope retrieval MODEL --out FILE.h5 [--lengths 256,512] [--depths 0,0.5,1]
//   [--needles FILE.jsonl] [--haystack FILE] [--semantics steps|set] [--threshold 0.1]
//   [--export-json PATH] [--device cpu|cuda] [--quiet] ...
#include <sys/stat.h>

#include <algorithm>
#include <iomanip>
#include <iostream>
#include <optional>

#include "analyses/retrieval/retrieval_file.h"
#include "analyses/retrieval/retrieval_heads.h"
#include "cli/cli_args.h"
#include "cli/commands.h"
#include "core/base/error.h"
#include "core/base/progress_bar.h"
#include "core/store/recording_reader.h"
#include "core/store/recording_writer.h"
#include "core/store/same_model.h"
#include "core/store/staged_file.h"
#include "hooks/activation_recorder.h"

namespace headscope::cli {
namespace {

constexpr int kTopHeadsShown = 10;

struct RetrievalArgs {
  std::string model;
  std::string out;
  std::vector<int64_t> lengths;
  std::vector<double> depths;
  std::string needles;
  std::string haystack;
  std::string question_template;
  std::string semantics = "steps";
  double threshold = 0.1;
  int64_t max_new_tokens = 50;
  std::string tokenizer;
  std::string export_json;
  uint64_t seed = 0;
  std::string device = "cpu";
  std::string compute_dtype = "auto";
  bool append = false;
  bool force = false;
  bool allow_long = false;
  bool quiet = false;
};

bool file_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

// Every prompt within the model's context (its few decoding steps may pass it on a rotary
// model; learned positions are checked with them by detect_retrieval_heads), and the longest
// sample's cache within memory, before the first sample runs.
void check_lengths(const Transformer& model, const RetrievalOptions& options, bool allow_long) {
  const ModelConfig& c = model.config();
  int64_t longest = 0;
  for (int64_t length : options.lengths) {
    check_context(c, length, allow_long, "--lengths " + std::to_string(length));
    longest = std::max(longest, length + options.max_new_tokens);
  }
  ForwardShape prefill;
  prefill.tokens = longest;
  prefill.logit_positions = 1;
  const auto element_size = static_cast<int64_t>(torch::elementSize(model.dtype()));
  check_memory_fits(forward_bytes(c, prefill, element_size) +
                        kv_cache_bytes(c, 1, longest, element_size),
                    model.device(),
                    "a retrieval sample of " + std::to_string(longest) + " tokens (--lengths)");
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
  if (args.append && args.force) throw InvalidInput("give --append or --force, not both");
  const bool exists = file_exists(args.out);
  if (exists && !args.append && !args.force) {
    throw InvalidInput("--out: " + args.out +
                       " exists; add --append to add the analysis to it or --force to replace it");
  }
  if (args.append && !exists) throw InvalidInput("--append: " + args.out + " does not exist");
  check_output_file(args.out, "--out");
  check_output_file(args.export_json, "--export-json");
  const RetrievalSemantics semantics = parse_retrieval_semantics(args.semantics);
  // Input files are read before the model, whose loading is the slow part.
  std::vector<Needle> needles;
  if (!args.needles.empty()) needles = load_needles_jsonl(args.needles);
  std::string haystack;
  if (!args.haystack.empty()) haystack = load_haystack_text(args.haystack);
  auto model = load_model(args.model, args.device, args.compute_dtype);
  std::optional<Tokenizer> tokenizer =
      args.tokenizer.empty() ? tokenizer_for(args.model) : Tokenizer::load(args.tokenizer);
  if (!tokenizer) {
    throw InvalidInput(args.model +
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
  std::optional<StagedFile> staged;
  if (args.append) {
    check_not_open_elsewhere(args.out);
    check_recording_model(args.out, summary);
  } else {
    staged.emplace(args.out, exists ? StagedFile::Target::kReplace : StagedFile::Target::kNew);
  }
  check_lengths(*model, options, args.allow_long);

  const int64_t total = static_cast<int64_t>(
      options.lengths.size() * options.depths.size() *
      (options.needles.empty() ? builtin_needles().size() : options.needles.size()));
  ProgressBar progress("retrieval", total, args.quiet);
  options.with_progress([&progress](int64_t done, int64_t all) {
    progress.advance(1, "sample " + std::to_string(done) + "/" + std::to_string(all));
  });
  const RetrievalHeadResult result = detect_retrieval_heads(*model, *tokenizer, options);

  if (args.append) {
    write_retrieval_heads(args.out, result, args.model);
  } else {
    // A new or replacing file appears complete or not at all.
    RecordingWriter::create(staged->path(), summary);
    write_retrieval_heads(staged->path(), result, args.model);
    staged->publish();
  }
  if (!args.export_json.empty()) export_retrieval_json(args.export_json, result);
  if (!args.quiet) print_summary(result, args.out);
}

}  // namespace

void add_retrieval_command(CLI::App& app) {
  auto args = std::make_shared<RetrievalArgs>();
  auto* cmd = app.add_subcommand(
      "retrieval", "Detect retrieval heads (Wu et al. 2024) with needle-in-a-haystack decoding");
  cmd->add_option("MODEL", args->model, "Hugging Face model directory")->required();
  cmd->add_option("--out", args->out, "Output HDF5 file (/analyses/retrieval_heads/)")->required();
  cmd->add_option("--lengths", args->lengths,
                  "Prompt lengths in tokens, comma-separated (default: 4 up to the context)")
      ->delimiter(',')
      ->check(integer_in(2, kMaxTokens));
  cmd->add_option("--depths", args->depths,
                  "Needle depths in [0, 1], comma-separated (default: 10 from 0 to 1)")
      ->delimiter(',')
      ->check(number_in(0.0, 1.0));
  cmd->add_option("--needles", args->needles,
                  "JSONL file, one {\"needle\", \"question\", \"answer\"} per line");
  cmd->add_option("--haystack", args->haystack, "Haystack text file (default: built-in filler)");
  cmd->add_option("--question-template", args->question_template,
                  "Text after the haystack; {question} is replaced by the needle's question");
  cmd->add_option("--semantics", args->semantics,
                  "steps: count decoding steps (original); set: each answer token once")
      ->check(one_of({"steps", "set"}));
  cmd->add_option("--threshold", args->threshold, "Retrieval heads score above this")
      ->check(number_in(0.0, 1.0));
  cmd->add_option("--max-new-tokens", args->max_new_tokens, "Decoding steps per sample")
      ->check(integer_in(1, kMaxDecodingSteps));
  cmd->add_flag("--allow-long-context", args->allow_long,
                "Prompts longer than max_position_embeddings (rotary models)");
  cmd->add_option("--tokenizer", args->tokenizer,
                  "tokenizer.json or a folder holding one (default: the model's)");
  cmd->add_option("--export-json", args->export_json,
                  "Also write Retrieval_Head's {\"L-H\": [scores]} JSON here");
  cmd->add_option("--seed", args->seed, "Seed of the built-in filler text")
      ->check(integer_in(0, kMaxSeed));
  add_device_option(*cmd, args->device);
  add_compute_dtype_option(*cmd, args->compute_dtype);
  cmd->add_flag("--append", args->append, "Add the analysis to an existing recording");
  cmd->add_flag("--force", args->force, "Replace an existing file");
  cmd->add_flag("--quiet", args->quiet, "No progress bar or summary");
  cmd->callback([args] { run(*args); });
}

}  // namespace headscope::cli
