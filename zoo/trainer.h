// The training loop: AdamW with warm-up and cosine decay, gradient clipping, batches mixing the
// tasks at one sampled length, periodic per-task evaluation and Hugging Face checkpoints.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <torch/types.h>

#include "analyses/tasks/task_sample.h"
#include "analyses/tasks/task_score.h"
#include "zoo/checkpoint_writer.h"
#include "zoo/recipe.h"

namespace headscope {

// One sample of `task` about `length` tokens long; the same seed must give the same sample.
using SampleFn = std::function<TaskSample(const TaskMix& task, int64_t length, uint64_t seed)>;

// The analyses task generators (niah depth drawn from the seed).
TaskSample generated_sample(const TaskMix& task, int64_t length, uint64_t seed);

struct TrainOptions {
  std::string out_dir;  // empty: write nothing
  torch::Device device = torch::kCPU;
  std::optional<int64_t> steps;  // overrides the recipe's
  bool quiet = false;            // no progress bar
  std::ostream* log = nullptr;   // evaluation lines, when set
  CheckpointDType save_dtype = CheckpointDType::kF32;
  // A model directory whose weights replace the random initialisation (continuing a run on a
  // fresh optimizer and schedule); its shape must match the recipe's model.
  std::string init_from;
};

struct TrainResult {
  std::vector<double> losses;  // one per step
  std::map<std::string, TaskScore> final_scores;
  int64_t tokens = 0;  // real (unpadded) tokens trained on
  double seconds = 0.0;
};

// Learning rate at `step` (0-based): linear warm-up to lr, then cosine down to lr·min_lr_ratio.
double learning_rate(const TrainingSettings& settings, int64_t steps, int64_t step);

// Checkpoints (config.json, model.safetensors, tokenizer.json) go to options.out_dir, and
// every checkpoint_every steps to out_dir/checkpoints/step-N; training.json at the end.
// Deterministic for a seed: bitwise on the CPU, on CUDA as far as its kernels are.
TrainResult train(const Recipe& recipe, const SampleFn& sample, const TrainOptions& options);

}  // namespace headscope
