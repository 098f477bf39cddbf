#include "cli/patching_pairs_args.h"

#include "analyses/circuits/patching_dataset.h"
#include "cli/cli_args.h"

namespace headscope::cli {

ModelOptionSet pairs_model_options() {
  ModelOptionSet model;
  model.help = "Model directory (--task: a zoo model, the tasks use its vocabulary)";
  model.default_dtype = "f32";
  return model;
}

void add_pairs_options(CLI::App& cmd, PairsArgs& args) {
  SampleDefaults defaults;
  defaults.with_batch = false;
  defaults.task_required = false;
  add_sample_options(cmd, args.samples, defaults);
  cmd.add_option("--dataset", args.dataset,
                 "JSON Lines of clean/corrupted pairs: clean, corrupted (texts or token ids), "
                 "answer, distractor (one token)");
}

void note_sample_options(CLI::App& cmd, PairsArgs& args) {
  args.sample_options_given = sample_options_given(cmd);
}

void check_pairs_args(const PairsArgs& args, const std::string& command) {
  check_task_or_dataset(args.samples, args.dataset, args.sample_options_given, command);
}

std::vector<PatchingPair> load_pairs(const PairsArgs& args, const ModelArgs& model,
                                     const ModelConfig& config, PatchingSource& source) {
  if (!args.dataset.empty()) {
    source.dataset = args.dataset;
    const std::optional<Tokenizer> tokenizer = tokenizer_for(model.dir);
    return read_patching_dataset(args.dataset, config, tokenizer ? &*tokenizer : nullptr);
  }
  source.task = args.samples.task;
  source.length = sample_length(args.samples, config);
  source.seed = args.samples.seed;
  return task_pairs(config, source.task, args.samples.n, source.length, source.seed);
}

std::string pairs_about(const PatchingSource& source, size_t pairs) {
  if (source.task.empty()) return source.dataset + ", " + std::to_string(pairs) + " pairs";
  return source.task + ", n=" + std::to_string(pairs) + ", length " +
         std::to_string(source.length) + ", seed " + std::to_string(source.seed);
}

}  // namespace headscope::cli
