// Options several commands share, registered in one place so that each has one name, one
// meaning, one help text and its default shown in --help everywhere (README.md, "Options").
//
//   add_model_options(*cmd, args->model);          // MODEL --device --dtype
//   add_output_options(*cmd, args->out, OutputKind::kAnalysisFile, "HDF5 file ...", false);
//   add_sample_options(*cmd, args->samples);      // --task --n --length --seed --batch
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "core/model/transformer.h"
#include "core/store/recording_writer.h"

namespace headscope::cli {

// MODEL, --device, --dtype (the compute dtype), --threads and, for commands that run prompts of a
// chosen length, --allow-long-context.
struct ModelArgs {
  std::string dir;
  std::string device = "cpu";
  std::string dtype = "auto";
  bool allow_long_context = false;
  int64_t threads = 0;  // --threads; 0: LibTorch's count, or a share of the cores in a launch
};

struct ModelOptionSet {
  std::string help = "Hugging Face model directory";
  std::string default_dtype = "auto";
  bool long_context = false;  // registers --allow-long-context
};

void add_model_options(CLI::App& cmd, ModelArgs& args, const ModelOptionSet& set = {});
// --device alone (zoo train, which has no MODEL).
CLI::Option* add_device_option(CLI::App& cmd, std::string& device);

// Sets this process's intra-op threads (dist/launch_env.h: rank_threads) and loads the model.
std::shared_ptr<Transformer> load_model(const ModelArgs& args);
// This rank's share of a tensor-parallel model (docs/DISTRIBUTED.md, Tensor parallelism).
std::shared_ptr<Transformer> load_model(const ModelArgs& args, const TensorParallel& tp);

// --out FILE with --append and --force: an existing file is refused unless one of them says
// what to do with it.
struct OutputArgs {
  std::string path;
  bool append = false;
  bool force = false;
};

enum class OutputKind {
  kRecording,     // record: --append adds runs
  kAnalysisFile,  // retrieval, ablate, importance, sparse-eval: --append adds the analysis
};

// `required`: --out must be given (else the command only prints).
void add_output_options(CLI::App& cmd, OutputArgs& args, OutputKind kind, const std::string& help,
                        bool required);

// Checked before any computation: the path is writable, and an existing file comes with
// --append or --force (InvalidInput naming --out otherwise), a missing one not with --append.
// kNew for a missing file; callers with an empty optional --out skip writing.
OutputMode output_mode(const OutputArgs& args, OutputKind kind);

// --task, --n, --length, --seed, --batch of the commands that score generated task samples.
struct SampleArgs {
  std::string task;
  int64_t n = 100;
  int64_t length = 0;  // 0: kDefaultSampleLength, or the model's positions if fewer
  uint64_t seed = 0;
  int64_t batch = 16;
};

constexpr int64_t kDefaultSampleLength = 256;

struct SampleDefaults {
  int64_t n = 100;
  int64_t batch = 16;
  bool with_batch = true;     // registers --batch
  bool task_required = true;  // false: the command has another source of prompts (--dataset)
};

void add_sample_options(CLI::App& cmd, SampleArgs& args, const SampleDefaults& defaults = {});

// Whether --n, --length or --seed came on the command line (from the command's callback).
bool sample_options_given(const CLI::App& cmd);
// InvalidInput "<command>: give exactly one of --task T or --dataset FILE.jsonl" unless exactly
// one is given, and for --n, --length or --seed beside a --dataset (which is used whole).
void check_task_or_dataset(const SampleArgs& samples, const std::string& dataset,
                           bool sample_options_given, const std::string& command);

// --length, or the default for this model.
int64_t sample_length(const SampleArgs& args, const ModelConfig& config);

// --quiet: no progress bar (and no summary where the command says so).
void add_quiet_flag(CLI::App& cmd, bool& quiet, const std::string& help = "No progress bar");
// --json: one JSON object on stdout instead of text.
void add_json_flag(CLI::App& cmd, bool& json);

}  // namespace headscope::cli
