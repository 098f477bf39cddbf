// The clean/corrupted pairs of `patch`, `path-patch` and `eap`: --task T [--n --length --seed] or
// --dataset FILE.jsonl (docs/CIRCUITS.md, "Task data").
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "analyses/circuits/patching_output.h"
#include "analyses/circuits/task_pairs.h"
#include "cli/option_groups.h"

namespace headscope::cli {

struct PairsArgs {
  SampleArgs samples;
  std::string dataset;
  // Whether --n, --length, --seed were given (they describe task samples only).
  bool sample_options_given = false;
};

// The model directory of a command on pairs (float32 by default: gradients and small effects).
ModelOptionSet pairs_model_options();

// --task, --n, --length, --seed and --dataset.
void add_pairs_options(CLI::App& cmd, PairsArgs& args);
// Call from the command's callback, before load_pairs.
void note_sample_options(CLI::App& cmd, PairsArgs& args);

// InvalidInput "<command>: give exactly one of ..." unless one source is given; --n, --length,
// --seed with --dataset. Before the model loads.
void check_pairs_args(const PairsArgs& args, const std::string& command);

// The pairs (InvalidInput: the errors of task_pairs and read_patching_dataset), and their source.
std::vector<PatchingPair> load_pairs(const PairsArgs& args, const ModelArgs& model,
                                     const ModelConfig& config, PatchingSource& source);

// --json's task, length and seed (or dataset), samples, clean_mean and corrupted_mean; R is any
// result with clean_metric, clean_mean and corrupted_mean.
template <typename R>
void add_pairs_json(nlohmann::ordered_json& j, const PatchingSource& source, const R& result) {
  if (!source.task.empty()) {
    j["task"] = source.task;
    j["length"] = source.length;
    j["seed"] = source.seed;
  } else {
    j["dataset"] = source.dataset;
  }
  j["samples"] = result.clean_metric.size();
  j["clean_mean"] = result.clean_mean;
  j["corrupted_mean"] = result.corrupted_mean;
}

// "ioi, n=20, length 256, seed 0" or "FILE, 20 pairs": what the text output is about.
std::string pairs_about(const PatchingSource& source, size_t pairs);

}  // namespace headscope::cli
