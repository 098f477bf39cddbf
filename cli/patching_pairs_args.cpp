#include "cli/patching_pairs_args.h"

#include "analyses/circuits/patching_dataset.h"
#include "cli/cli_args.h"
#include "core/base/error.h"

namespace headscope::cli {

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
  args.sample_options_given = cmd.get_option("--n")->count() > 0 ||
                              cmd.get_option("--length")->count() > 0 ||
                              cmd.get_option("--seed")->count() > 0;
}

void check_pairs_args(const PairsArgs& args, const std::string& command) {
  if (args.samples.task.empty() == args.dataset.empty()) {
    throw InvalidInput(command + ": give exactly one of --task T or --dataset FILE.jsonl");
  }
  if (!args.dataset.empty() && args.sample_options_given) {
    throw InvalidInput("--n, --length, --seed: only with --task (a --dataset is used whole)");
  }
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
