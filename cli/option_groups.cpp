#include "cli/option_groups.h"

#include <algorithm>
#include <cstdlib>
#include <thread>

#include <torch/torch.h>

#include "analyses/tasks/generate_task.h"
#include "cli/cli_args.h"
#include "core/base/error.h"
#include "core/base/path_exists.h"
#include "dist/launch_env.h"

namespace headscope::cli {

CLI::Option* add_device_option(CLI::App& cmd, std::string& device) {
  return cmd.add_option("--device", device, "cpu, cuda or cuda:N")
      ->capture_default_str()
      ->check(CLI::Validator(
          [](std::string& input) -> std::string {
            const bool indexed = input.rfind("cuda:", 0) == 0 && input.size() > 5 &&
                                 input.find_first_not_of("0123456789", 5) == std::string::npos;
            if (input == "cpu" || input == "cuda" || indexed) return {};
            return "expected cpu, cuda or cuda:N, got '" + input + "'";
          },
          "cpu|cuda|cuda:N"));
}

void add_model_options(CLI::App& cmd, ModelArgs& args, const ModelOptionSet& set) {
  cmd.add_option("MODEL", args.dir, set.help)->required();
  add_device_option(cmd, args.device);
  args.dtype = set.default_dtype;
  cmd.add_option("--dtype", args.dtype,
                 "Compute dtype: auto (the checkpoint's), f32, bf16, f16 (f16 on cuda only)")
      ->capture_default_str()
      ->check(one_of({"auto", "f32", "bf16", "f16"}));
  cmd.add_option("--threads", args.threads,
                 "CPU threads of this process [default: LibTorch's (OMP_NUM_THREADS or every "
                 "core); under torchrun or mpirun, cores / processes on this host]")
      ->check(integer_in(1, kMaxThreads));
  if (set.long_context) {
    cmd.add_flag("--allow-long-context", args.allow_long_context,
                 "Run past max_position_embeddings (rotary models; results may degrade)");
  }
}

std::shared_ptr<Transformer> load_model(const ModelArgs& args) {
  return load_model(args, TensorParallel());
}

std::shared_ptr<Transformer> load_model(const ModelArgs& args, const TensorParallel& tp) {
  const int64_t threads = rank_threads(launch_env(), args.threads, std::getenv("OMP_NUM_THREADS"),
                                       static_cast<int64_t>(std::thread::hardware_concurrency()));
  if (threads > 0) torch::set_num_threads(static_cast<int>(threads));
  ModelLoadOptions options;
  options.device = parse_device(args.device);
  options.dtype = parse_compute_dtype(args.dtype, options.device, "--dtype");
  options.tensor_parallel = tp;
  return Transformer::load(args.dir, options);
}

void add_output_options(CLI::App& cmd, OutputArgs& args, OutputKind kind, const std::string& help,
                        bool required) {
  auto* out = cmd.add_option("--out", args.path, help);
  if (required) out->required();
  auto* append = cmd.add_flag("--append", args.append,
                              kind == OutputKind::kRecording
                                  ? "Add runs to an existing recording of the same model"
                                  : "Add the analysis to an existing file of the same model");
  auto* force = cmd.add_flag("--force", args.force, "Replace an existing file");
  append->excludes(force)->needs(out);
  force->needs(out);
}

OutputMode output_mode(const OutputArgs& args, OutputKind kind) {
  if (args.path.empty()) return OutputMode::kNew;
  check_output_file(args.path, "--out");
  const bool exists = path_exists(args.path);
  if (exists && !args.append && !args.force) {
    throw InvalidInput("--out: " + args.path + " exists; add --append to add " +
                       (kind == OutputKind::kRecording ? "runs" : "the analysis") +
                       " to it or --force to replace it");
  }
  if (args.append && !exists) throw InvalidInput("--append: " + args.path + " does not exist");
  if (!exists) return OutputMode::kNew;
  return args.append ? OutputMode::kAppend : OutputMode::kReplace;
}

void add_sample_options(CLI::App& cmd, SampleArgs& args, const SampleDefaults& defaults) {
  args.n = defaults.n;
  args.batch = defaults.batch;
  auto* task = cmd.add_option("--task", args.task, "niah, ioi, colors or induction")
                   ->check(one_of(task_names()));
  if (defaults.task_required) task->required();
  cmd.add_option("--n", args.n, "Samples")
      ->capture_default_str()
      ->check(integer_in(1, kMaxSamples));
  cmd.add_option("--length", args.length,
                 "Tokens per sample (niah, induction) [default: " +
                     std::to_string(kDefaultSampleLength) + ", or the model's positions if fewer]")
      ->check(integer_in(1, kMaxTokens));
  cmd.add_option("--seed", args.seed, "First sample's seed")
      ->capture_default_str()
      ->check(integer_in(0, kMaxSeed));
  if (defaults.with_batch) {
    cmd.add_option("--batch", args.batch, "Samples per forward pass")
        ->capture_default_str()
        ->check(integer_in(1, kMaxBatch));
  }
}

int64_t sample_length(const SampleArgs& args, const ModelConfig& config) {
  return args.length > 0 ? args.length : std::min(kDefaultSampleLength, config.max_positions);
}

void add_quiet_flag(CLI::App& cmd, bool& quiet, const std::string& help) {
  cmd.add_flag("--quiet", quiet, help);
}

void add_json_flag(CLI::App& cmd, bool& json) {
  cmd.add_flag("--json", json, "One JSON object on stdout instead of text");
}

}  // namespace headscope::cli
