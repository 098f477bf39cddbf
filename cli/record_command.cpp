// headscope record MODEL (--prompt TEXT | --tokens 1,2,3 | --tokens-file F) --out FILE.h5
//   [--append|--force] [--attention full|stats|both|none] [--hooks NAME_OR_GLOB,...]
//   [--save-logits] [--store-dtype f16|f32] [--device cpu|cuda] [--dtype auto|f32|bf16|f16]
//   [--random-weights] ...
#include <algorithm>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <functional>
#include <iostream>
#include <optional>
#include <sstream>

#include "cli/choice_option.h"
#include "cli/cli_args.h"
#include "cli/commands.h"
#include "cli/distributed_scan.h"
#include "cli/option_groups.h"
#include "core/base/deferred_sigterm.h"
#include "core/base/error.h"
#include "core/base/progress_bar.h"
#include "core/base/text_file.h"
#include "core/model/memory_estimate.h"
#include "core/model/random_weights.h"
#include "core/store/chunk_write_queue.h"
#include "core/store/compression.h"
#include "core/store/part_file_schema.h"
#include "core/store/part_files.h"
#include "hooks/activation_recorder.h"

namespace headscope::cli {
namespace {

// Where the attention statistics' writes went: whether storage or compute limits a recording.
void print_write_times(const ChunkWriteTimes& t) {
  if (t.source_bytes == 0) return;
  char line[400];
  std::snprintf(line, sizeof line,
                "statistics writer: %.0f MB, %.0f MB stored; in the background %.1f s waiting "
                "for device copies, %.1f s compressing, %.1f s writing; the recording waited "
                "%.1f s for the writer\n",
                static_cast<double>(t.source_bytes) / 1e6,
                static_cast<double>(t.stored_bytes) / 1e6, t.source_waited, t.compressing,
                t.writing, t.caller_waited);
  std::cout << line;
}

struct RecordArgs {
  ModelArgs model;
  OutputArgs out;
  std::string prompt;
  std::string tokens;
  std::string tokens_file;
  std::vector<std::string> hooks;
  AttentionRecording attention = AttentionRecording::kFull;
  AttentionStatsOptions stats;
  bool quiet = false;
  bool save_logits = false;
  DType store_dtype = DType::kF32;
  bool random_weights = false;
  bool tensor_parallel = false;
  std::string label;
  std::string compression = compression_name(Compression{});
};

// Seed of --random-weights; fixed so that two recordings of one config see the same model.
constexpr uint64_t kRandomWeightsSeed = 0;

// A model of the config's shape with random weights, in the checkpoint's dtype unless
// --dtype says otherwise; the directory needs only config.json.
std::shared_ptr<Transformer> random_model(const ModelArgs& args) {
  ModelConfig config = load_model_config(args.dir);
  const torch::Device device = parse_device(args.device);
  const auto dtype = parse_compute_dtype(args.dtype, device, "--dtype");
  auto weights =
      random_model_weights(config, kRandomWeightsSeed,
                           dtype ? *dtype : checkpoint_compute_dtype(config, device), device);
  return Transformer::from_weights(std::move(config), std::move(weights), args.dir);
}

// One run's tokens and where they came from ("--tokens", "FILE:LINE"), for messages.
struct RunInput {
  std::vector<int64_t> tokens;
  std::string source;
};

std::vector<RunInput> read_tokens_file(const std::string& path) {
  std::istringstream in(read_text_file(path, "--tokens-file"));
  std::vector<RunInput> runs;
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string source = path + ":" + std::to_string(line_no);
    runs.push_back({parse_token_list(line, source), source});
  }
  if (runs.empty()) throw InvalidInput("--tokens-file: " + path + " holds no token sequences");
  return runs;
}

// Every id must index the embedding; checked for all runs before any is recorded.
void check_vocabulary(const std::vector<RunInput>& runs, const ModelConfig& c,
                      const std::string& model) {
  for (const RunInput& run : runs) {
    for (size_t i = 0; i < run.tokens.size(); ++i) {
      if (run.tokens[i] < c.vocab_size) continue;
      throw InvalidInput(run.source + ": token " + std::to_string(i) + " is id " +
                         std::to_string(run.tokens[i]) + ", outside the vocabulary [0, " +
                         std::to_string(c.vocab_size) + ") of " + model);
    }
  }
}

const ChoiceTable<AttentionRecording> kAttentionChoices = {
    {"full", AttentionRecording::kFull},
    {"stats", AttentionRecording::kStats},
    {"both", AttentionRecording::kFullAndStats},
    {"none", AttentionRecording::kNone}};

void check_lengths(const std::vector<RunInput>& runs, const ModelConfig& c, bool allow_long) {
  for (const RunInput& run : runs) {
    const auto t = static_cast<int64_t>(run.tokens.size());
    if (t == 0) throw InvalidInput(run.source + ": no tokens");
    check_context(c, t, allow_long, run.source);
  }
}

// The longest run's forward pass with what it records (maps, statistics, logits) must fit the
// device's memory: refused here with the estimate rather than by the allocator mid-file.
// `writes_file`: this process writes the file (not a tensor-parallel rank other than 0).
void check_memory(const Transformer& model, const std::vector<RunInput>& runs,
                  const RecordArgs& args, AttentionRecording attention, bool writes_file) {
  int64_t tokens = 0;
  for (const auto& run : runs) tokens = std::max(tokens, static_cast<int64_t>(run.tokens.size()));
  const bool maps =
      attention == AttentionRecording::kFull || attention == AttentionRecording::kFullAndStats;
  const bool stats =
      attention == AttentionRecording::kStats || attention == AttentionRecording::kFullAndStats;
  ForwardShape shape;
  shape.tokens = tokens;
  shape.attention_maps = maps;
  shape.logit_positions = args.save_logits ? tokens : 0;
  const ModelConfig& c = model.config();
  double bytes = forward_bytes(c, shape, static_cast<int64_t>(torch::elementSize(model.dtype())));
  // Statistics in flight to the file (sources and compressed chunks) are in host memory.
  double writes = 0.0;
  if (stats) {
    // A tensor-parallel rank computes the statistics of its own heads only.
    ModelConfig mine = c;
    mine.n_heads = model.shard().heads;
    mine.n_kv_heads = model.shard().kv_heads;
    bytes += attention_stats_bytes(mine, tokens, args.stats.topk, args.stats.block_size,
                                   args.stats.chunk);
    const double layer =
        attention_stats_output_bytes(c, tokens, args.stats.topk, args.stats.block_size);
    if (writes_file) writes = 2.0 * stats_write_budget_bytes(layer);
    // Rank 0 of a tensor-parallel recording gathers each statistic on the host: every rank's
    // share and their concatenation, one layer's at most (the other ranks send host copies of
    // their shares, counted with their device's statistics).
    if (writes_file && model.shard().sharded()) writes += 2.0 * layer;
  }
  // Statistics on their way to the file share the host's memory with layers run there.
  const auto& devices = model.placement().devices;
  const bool gpus_only = std::all_of(devices.begin(), devices.end(),
                                     [](const torch::Device& d) { return d.is_cuda(); });
  if (!gpus_only) bytes += writes;
  const std::string what =
      "recording " + std::to_string(tokens) + " tokens with --attention " +
      choice_word(kAttentionChoices, attention) +
      (stats ? " (--topk " + std::to_string(args.stats.topk) + ", --stats-block-size " +
                   std::to_string(args.stats.block_size) + ")"
             : "") +
      (args.save_logits ? " and --save-logits" : "");
  check_placement_fits(
      model.placement(), bytes, 0.0, what,
      maps ? "--attention stats keeps memory linear in the tokens" : "record fewer tokens");
  if (gpus_only && writes > 0.0) {
    check_memory_fits(writes, torch::kCPU, what + " (statistics being written)",
                      "record fewer tokens");
  }
}

std::string run_list(const std::vector<int64_t>& runs) {
  std::string text;
  for (const int64_t i : runs) text += (text.empty() ? "" : ", ") + std::to_string(i);
  return text;
}

// Under torchrun or mpirun (docs/DISTRIBUTED.md): each rank records its share of the runs,
// longest first, to its own part file beside the output; rank 0 then writes the main file,
// copying in every run the part files hold (file to file, not through the group), and deletes
// the part files once it holds them all. A rank that dies loses no other rank's runs: rank 0
// copies what the part files hold, lists the rest as missing and keeps the part files.
void record_distributed(DistributedScan& scan, const RecordArgs& args, OutputMode mode,
                        const ModelSummary& summary, const std::vector<double>& costs,
                        const std::function<void(RecordingWriter&, int64_t)>& record_one) {
  if (mode == OutputMode::kAppend) {
    throw InvalidInput("--append: a distributed recording (" + scan.group().env().launcher +
                       ", WORLD_SIZE " + std::to_string(scan.group().world_size()) +
                       ") writes a new main file and part files; append in one process");
  }
  const StagedFile::Target target =
      mode == OutputMode::kNew ? StagedFile::Target::kNew : StagedFile::Target::kReplace;
  std::vector<std::string> parts;
  for (int64_t rank = 0; rank < scan.group().world_size(); ++rank) {
    parts.push_back(part_file_path(args.out.path, rank));
    if (target == StagedFile::Target::kNew && std::filesystem::exists(parts.back())) {
      throw InvalidInput(parts.back() +
                         " exists (a part file of an earlier distributed recording of " +
                         args.out.path + "); give --force to replace it");
    }
  }
  // A launcher's SIGTERM (torchrun stops the other ranks once one died) ends this rank's runs
  // after the current one, and rank 0 still writes the main file of what was completed.
  const DeferredSigterm sigterm;
  std::exception_ptr failure;
  try {
    scan.gather([&] {
      RecordingWriter writer =
          RecordingWriter::open(parts[static_cast<size_t>(scan.group().rank())], summary, mode);
      int64_t completed = 0;
      for (const int64_t i : scan.share(costs)) {
        if (DeferredSigterm::received()) {
          throw IoError("rank " + std::to_string(scan.group().rank()) +
                        " stopped by SIGTERM after " + std::to_string(completed) + " of its runs");
        }
        record_one(writer, i);
        scan.sample_done(++completed);
      }
      writer.finish();
      return std::string();
    });
  } catch (...) {
    failure = std::current_exception();
  }
  if (!scan.root()) {
    if (failure) std::rethrow_exception(failure);
    return;
  }
  const auto total = static_cast<int64_t>(costs.size());
  const GatheredRecording gathered =
      gather_part_files(args.out.path, target, summary, parts, total);
  if (!failure && gathered.missing.empty()) {
    for (const std::string& part : parts) std::filesystem::remove(part);
    if (!args.quiet) {
      std::cout << "recorded " << total << " run(s) to " << args.out.path << " on " << parts.size()
                << " ranks\n";
    }
    return;
  }
  std::string ranks;
  for (int64_t rank = 0; rank < scan.group().world_size(); ++rank) {
    const std::vector<int64_t> share = scan.share_of(costs, rank);
    const bool lost = std::any_of(share.begin(), share.end(), [&](int64_t i) {
      return std::binary_search(gathered.missing.begin(), gathered.missing.end(), i);
    });
    if (lost) ranks += (ranks.empty() ? "rank " : ", rank ") + std::to_string(rank);
  }
  std::string message =
      args.out.path + " holds " + std::to_string(gathered.copied.size()) + " of " +
      std::to_string(total) + " runs; " +
      (gathered.missing.empty()
           ? std::string("none is missing")
           : "missing (" + ranks + " did not finish; /runs attribute " + kAttrMissingRuns +
                 " lists them, the part files " + parts.front() +
                 " ... keep every completed run): runs " + run_list(gathered.missing));
  for (const std::string& problem : gathered.unreadable) message += "; " + problem;
  if (failure) {
    try {
      std::rethrow_exception(failure);
    } catch (const std::exception& e) {
      message += "; " + std::string(e.what());
    }
  }
  throw IoError(message);
}

// --random-weights builds its model whole, which a tensor-parallel rank does not hold.
void check_tensor_parallel(const RecordArgs& args) {
  if (args.random_weights) {
    throw InvalidInput(
        "--tensor-parallel: --random-weights builds the whole model in every "
        "process; give a checkpoint");
  }
}

// Every rank runs every run on its share of the model (docs/DISTRIBUTED.md, Tensor
// parallelism); the hooks' values and its heads' attention statistics are gathered whole to
// rank 0, which writes the one file, as one process would.
void record_tensor_parallel(DistributedScan& scan, const RecordArgs& args, OutputMode mode,
                            const ModelSummary& summary, int64_t count,
                            const std::function<void(RecordingWriter*, int64_t)>& record_one) {
  std::optional<RecordingWriter> writer;
  if (scan.root()) writer.emplace(RecordingWriter::open(args.out.path, summary, mode));
  for (int64_t i = 0; i < count; ++i) record_one(writer ? &*writer : nullptr, i);
  if (!writer) return;
  const int64_t total = writer->run_count();
  writer->finish();
  if (!args.quiet) {
    std::cout << "recorded " << count << " run(s) on " << scan.group().world_size()
              << " tensor-parallel ranks to " << args.out.path << " (" << total
              << " in the file)\n";
  }
}

void run(const RecordArgs& args) {
  const OutputMode mode = output_mode(args.out, OutputKind::kRecording);
  const AttentionRecording attention = args.attention;
  if (args.tensor_parallel) check_tensor_parallel(args);
  // Under torchrun or mpirun each rank records its share of the runs, or with
  // --tensor-parallel its share of every run's heads.
  DistributedScan scan;
  const bool sharded = args.tensor_parallel && scan.distributed();
  const ModelArgs model_args = scan.rank_model(args.model);
  auto model = args.random_weights
                   ? random_model(model_args)
                   : load_model(model_args, sharded ? scan.tensor_parallel() : TensorParallel());
  auto tokenizer = tokenizer_for(args.model.dir);

  std::vector<RunInput> runs;
  if (!args.tokens_file.empty()) {
    if (!args.prompt.empty() || !args.tokens.empty()) {
      throw InvalidInput("give one of --prompt, --tokens or --tokens-file");
    }
    runs = read_tokens_file(args.tokens_file);
  } else {
    runs.push_back({prompt_tokens(tokenizer, args.model.dir, args.prompt, args.tokens),
                    args.tokens.empty() ? "--prompt" : "--tokens"});
  }
  check_vocabulary(runs, model->config(), args.model.dir);
  check_lengths(runs, model->config(), args.model.allow_long_context);
  check_memory(*model, runs, args, attention, !sharded || scan.root());

  HookedModel hooked(model);
  for (const auto& filter : args.hooks) {
    if (hooked.match(filter).empty()) {
      throw InvalidInput("--hooks: '" + filter +
                         "' matches no hook point (list them with `headscope inspect " +
                         args.model.dir + " --hooks`)");
    }
  }
  RecordOptions options;
  options.hooks = args.hooks;
  options.attention = attention;
  options.stats = args.stats;
  options.dtype = args.store_dtype;
  options.save_logits = args.save_logits;
  const int64_t layers = model->config().n_layers;
  const auto count = static_cast<int64_t>(runs.size());
  // A run's cost is its length: the split starts the longest runs first.
  std::vector<double> costs;
  for (const RunInput& run : runs) costs.push_back(static_cast<double>(run.tokens.size()));
  const auto mine = sharded ? count : static_cast<int64_t>(scan.share(costs).size());
  ProgressBar progress(
      scan.distributed() ? "record (rank " + std::to_string(scan.group().rank()) + ")" : "record",
      mine * layers, args.quiet);
  if (sharded) {
    options.whole_value = [&scan](HookPoint point, const torch::Tensor& share) {
      return scan.whole_hook_value(point, share);
    };
    options.whole_heads = [&scan](const torch::Tensor& share) { return scan.whole_heads(share); };
  }
  const Compression compression = parse_compression(args.compression, "--compression");
  ChunkWriteTimes writes;
  const auto record_one = [&](RecordingWriter* writer, int64_t i) {
    const auto& tokens = runs[static_cast<size_t>(i)].tokens;
    options.on_layer_done = [&](int64_t layer) {
      progress.advance(1, "run " + std::to_string(i + 1) + "/" + std::to_string(count) + " layer " +
                              std::to_string(layer + 1) + "/" + std::to_string(layers));
    };
    if (writer == nullptr) {  // a tensor-parallel rank that does not write
      record_activations(hooked, tokens, options, nullptr);
      return;
    }
    auto run = writer->begin_run();
    run.set_compression(compression);
    run.write_tokens({tokens.begin(), tokens.end()});
    run.write_token_text(token_texts(tokenizer, tokens));
    run.set_attribute("prompt", args.prompt);
    run.set_attribute("task", args.label);
    if (args.random_weights) {
      run.set_attribute("", "random_weights_seed", static_cast<int64_t>(kRandomWeightsSeed));
    }
    if (scan.distributed() && !sharded) run.set_attribute("", kAttrRunIndex, i);
    record_activations(hooked, tokens, options, run);
    run.commit();
    writes += run.deferred_times();
  };
  if (sharded) {
    record_tensor_parallel(scan, args, mode, summarize(*model), count, record_one);
    return;
  }
  if (scan.distributed()) {
    record_distributed(scan, args, mode, summarize(*model), costs,
                       [&](RecordingWriter& writer, int64_t i) { record_one(&writer, i); });
    return;
  }
  // Every check above ran before the file is touched; opening checks the file itself (the
  // model of an appended file, another process holding it) before writing anything.
  RecordingWriter writer = RecordingWriter::open(args.out.path, summarize(*model), mode);
  for (int64_t i = 0; i < count; ++i) record_one(&writer, i);
  const int64_t total = writer.run_count();
  writer.finish();
  if (!args.quiet) {
    std::cout << "recorded " << runs.size() << " run(s) to " << args.out.path << " (" << total
              << " in the file)\n";
    print_write_times(writes);
  }
}

}  // namespace

void add_record_command(CLI::App& app) {
  auto args = std::make_shared<RecordArgs>();
  auto* cmd = app.add_subcommand("record", "Record attention patterns and activations to HDF5");
  ModelOptionSet model;
  model.long_context = true;
  add_model_options(*cmd, args->model, model);
  add_output_options(*cmd, args->out, OutputKind::kRecording, "Output HDF5 file", true);
  cmd->add_option("--prompt", args->prompt, "Prompt text (needs the model's tokenizer)");
  cmd->add_option("--tokens", args->tokens, "One run's token ids, comma-separated");
  cmd->add_option("--tokens-file", args->tokens_file,
                  "File with one comma-separated token sequence per line (one run each)");
  add_choice_option(*cmd, "--attention", args->attention, kAttentionChoices,
                    "full: every hook_pattern [H, T, T]; stats: attention_stats/ (memory linear "
                    "in T); both; none");
  cmd->add_option("--hooks", args->hooks, "Further hooks to store, names or globs, comma-separated")
      ->delimiter(',');
  cmd->add_option("--sink", args->stats.sink, "stats: keys counted as the sink")
      ->capture_default_str()
      ->check(integer_in(0, kMaxTokens));
  cmd->add_option("--window", args->stats.window, "stats: keys in the local window")
      ->capture_default_str()
      ->check(integer_in(1, kMaxTokens));
  cmd->add_option("--topk", args->stats.topk, "stats: top keys kept per query")
      ->capture_default_str()
      ->check(integer_in(1, kMaxStatsParameter));
  cmd->add_option("--stats-block-size", args->stats.block_size,
                  "stats: block edge of block_mass (query and key blocks)")
      ->capture_default_str()
      ->check(integer_in(1, kMaxStatsParameter));
  add_quiet_flag(*cmd, args->quiet, "No progress bar or summary");
  cmd->add_flag("--save-logits", args->save_logits, "Also store /runs/<i>/logits [T, vocab]");
  add_choice_option(*cmd, "--store-dtype", args->store_dtype,
                    {{"f16", DType::kF16}, {"f32", DType::kF32}},
                    "Dtype of the stored activations");
  cmd->add_option("--compression", args->compression,
                  "How datasets are stored: deflate[:LEVEL] (HDF5's shuffle + deflate filters, "
                  "LEVEL 1 fastest .. 9 smallest) or none (raw chunks: fastest to write, ~2x "
                  "larger)")
      ->capture_default_str()
      ->check(one_of({"none", "deflate", "deflate:1", "deflate:2", "deflate:3", "deflate:4",
                      "deflate:5", "deflate:6", "deflate:7", "deflate:8", "deflate:9"}));
  cmd->add_option("--label", args->label,
                  "Free-form label stored with each run (its attribute 'task')");
  cmd->add_flag("--random-weights", args->random_weights,
                "Random weights (seed 0) of the shape in MODEL/config.json, in its dtype; no "
                "weight files needed");
  cmd->add_flag("--tensor-parallel", args->tensor_parallel,
                "Under torchrun or mpirun: split the model's heads and MLP columns over the "
                "processes (each holds its share) and record every run together; rank 0 writes "
                "the file");
  cmd->callback([args] { run(*args); });
}

}  // namespace headscope::cli
