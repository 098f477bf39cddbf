// A training recipe: model shape, optimizer settings, task mixture and loss weights, read from
// zoo/recipes/<name>.json.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/checkpoint/model_config.h"
#include "zoo/checkpoint_writer.h"

namespace headscope {

struct TaskMix {
  std::string task;
  double weight = 1.0;                     // relative frequency among batches
  int64_t min_length = 0, max_length = 0;  // tokens, inclusive
};

struct TrainingSettings {
  int64_t steps = 0;
  int64_t batch_size = 0;
  double lr = 0.0;
  int64_t warmup_steps = 0;
  double min_lr_ratio = 0.0;  // cosine decay ends at lr * min_lr_ratio
  double weight_decay = 0.0;
  double grad_clip = 0.0;  // max global gradient norm; 0: no clipping
  uint64_t seed = 0;
  int64_t eval_every = 0;        // 0: evaluate at the end only
  int64_t eval_samples = 0;      // per task
  int64_t checkpoint_every = 0;  // 0: the final checkpoint only
};

struct Recipe {
  std::string name;       // file stem
  std::string json_text;  // as read, kept in training.json
  ModelConfig model;      // a Llama config over Vocabulary::builtin()
  SpecialTokens special;  // the vocabulary's
  TrainingSettings training;
  std::vector<TaskMix> tasks;
  double answer_weight = 1.0;  // loss weight of answer tokens
  double filler_weight = 0.0;  // loss weight of filler tokens (language modelling)
};

// Throws InvalidInput naming `label` and the field ("training.lr") on any bad or missing value.
Recipe parse_recipe(const std::string& json_text, const std::string& label);

// `name_or_path`: a .json file, or the name of one in zoo/recipes/.
Recipe load_recipe(const std::string& name_or_path);

// Names of the recipes in zoo/recipes/, sorted.
std::vector<std::string> recipe_names();

}  // namespace headscope
