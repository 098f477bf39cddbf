#include "cli/option_groups.h"

#include <algorithm>
#include <cstdlib>
#include <sstream>
#include <thread>

#include <torch/torch.h>

#include "analyses/tasks/generate_task.h"
#include "cli/cli_args.h"
#include "core/base/error.h"
#include "core/base/path_exists.h"
#include "dist/launch_env.h"

namespace headscope::cli {

namespace {

bool one_device(const std::string& text) {
  const bool indexed = text.rfind("cuda:", 0) == 0 && text.size() > 5 &&
                       text.find_first_not_of("0123456789", 5) == std::string::npos;
  return text == "cpu" || text == "cuda" || indexed;
}

// cpu, cuda or cuda:N; with `several`, also a comma-separated list of them (pipeline placement).
CLI::Validator device_validator(bool several) {
  return CLI::Validator(
      [several](std::string& input) -> std::string {
        if (one_device(input)) return {};
        if (several) {
          std::string entry;
          std::istringstream in(input);
          bool ok = !input.empty() && input.back() != ',';
          while (ok && std::getline(in, entry, ',')) ok = one_device(entry);
          if (ok) return {};
          return "expected cpu, cuda or cuda:N, or a comma-separated list of them (cuda:0,cuda:1), "
                 "got '" +
                 input + "'";
        }
        return "expected cpu, cuda or cuda:N, got '" + input + "'";
      },
      several ? "cpu|cuda|cuda:N[,...]" : "cpu|cuda|cuda:N");
}

}  // namespace

CLI::Option* add_device_option(CLI::App& cmd, std::string& device) {
  return cmd.add_option("--device", device, "cpu, cuda or cuda:N")
      ->capture_default_str()
      ->check(device_validator(false));
}

void add_model_options(CLI::App& cmd, ModelArgs& args, const ModelOptionSet& set) {
  cmd.add_option("MODEL", args.dir, set.help)->required();
  auto* device = cmd.add_option("--device", args.device,
                                "cpu, cuda or cuda:N; several (cuda:0,cuda:1): consecutive layers "
                                "on each, in order (pipeline placement)")
                     ->capture_default_str()
                     ->check(device_validator(true));
  cmd.add_option_function<std::string>(
         "--devices", [&args](const std::string&) { args.device = "auto"; },
         "auto: the layers over every visible GPU (pipeline placement)")
      ->check(one_of({"auto"}))
      ->excludes(device);
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
  const std::vector<torch::Device> devices = parse_devices(args.device);
  if (devices.size() == 1) {
    options.with_device(devices.front());
  } else {
    options.with_devices(devices);
  }
  // float16 is refused where any layer would run on the CPU.
  const auto cpu = std::find_if(devices.begin(), devices.end(),
                                [](const torch::Device& d) { return d.is_cpu(); });
  options.dtype =
      parse_compute_dtype(args.dtype, cpu != devices.end() ? *cpu : devices.front(), "--dtype");
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

bool sample_options_given(const CLI::App& cmd) {
  return cmd.get_option("--n")->count() > 0 || cmd.get_option("--length")->count() > 0 ||
         cmd.get_option("--seed")->count() > 0;
}

void check_task_or_dataset(const SampleArgs& samples, const std::string& dataset,
                           bool sample_options_given, const std::string& command) {
  if (samples.task.empty() == dataset.empty()) {
    throw InvalidInput(command + ": give exactly one of --task T or --dataset FILE.jsonl");
  }
  if (!dataset.empty() && sample_options_given) {
    throw InvalidInput("--n, --length, --seed: only with --task (a --dataset is used whole)");
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
