// headscope zoo list | train RECIPE --out DIR | eval MODEL --task T
#include <iomanip>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "analyses/tasks/generate_task.h"
#include "analyses/tasks/vocabulary.h"
#include "cli/choice_option.h"
#include "cli/cli_args.h"
#include "cli/commands.h"
#include "cli/option_groups.h"
#include "core/base/error.h"
#include "zoo/recipe.h"
#include "zoo/trainer.h"

namespace headscope::cli {
namespace {

struct TrainArgs {
  std::string recipe, out, device = "cpu", init;
  CheckpointDType save_dtype = CheckpointDType::kF32;
  int64_t steps = 0;
  bool quiet = false;
};

struct EvalArgs {
  ModelArgs model;
  SampleArgs samples;
  bool json = false;
};

void list() {
  for (const std::string& name : recipe_names()) {
    const Recipe r = load_recipe(name);
    std::ostringstream tasks;
    for (const TaskMix& t : r.tasks) tasks << (tasks.tellp() > 0 ? "," : "") << t.task;
    std::cout << std::left << std::setw(16) << name << " " << r.model.n_layers << "x"
              << r.model.n_heads << " d_model " << r.model.d_model << ", context "
              << r.model.max_positions << ", " << r.training.steps << " steps, " << tasks.str()
              << "\n";
  }
}

void train_command(const TrainArgs& args) {
  check_output_dir(args.out, "--out");
  const Recipe recipe = load_recipe(args.recipe);
  TrainOptions options;
  options.out_dir = args.out;
  options.device = parse_device(args.device);
  if (args.steps > 0) options.steps = args.steps;
  options.quiet = args.quiet;
  options.init_from = args.init;
  options.log = args.quiet ? nullptr : &std::cout;
  options.save_dtype = args.save_dtype;
  const TrainResult result = train(recipe, generated_sample, options);
  std::cout << "trained " << result.losses.size() << " steps in " << std::fixed
            << std::setprecision(1) << result.seconds << " s ("
            << static_cast<int64_t>(static_cast<double>(result.tokens) / result.seconds)
            << " tokens/s), loss " << std::setprecision(4) << result.losses.front() << " -> "
            << result.losses.back() << "\n";
  for (const auto& [task, score] : result.final_scores) {
    std::cout << "  " << task << ": accuracy " << std::setprecision(3) << score.accuracy
              << ", answer tokens " << score.token_accuracy << "\n";
  }
  std::cout << "wrote " << args.out << "\n";
}

void eval_command(const EvalArgs& args) {
  const auto model = load_model(args.model);
  const int64_t length = sample_length(args.samples, model->config());
  const TaskMix task{args.samples.task, 1.0, length, length};
  std::vector<TaskSample> samples;
  for (int64_t i = 0; i < args.samples.n; ++i) {
    samples.push_back(
        generated_sample(task, length, args.samples.seed + static_cast<uint64_t>(i)));
  }
  const TaskScore score =
      score_samples(*model, samples, Vocabulary::builtin().pad(), args.samples.batch);
  if (args.json) {
    nlohmann::ordered_json j{
        {"task", score.task},         {"samples", score.samples},
        {"length", length},           {"seed", args.samples.seed},
        {"accuracy", score.accuracy}, {"token_accuracy", score.token_accuracy}};
    if (score.mean_logit_diff) j["mean_logit_diff"] = *score.mean_logit_diff;
    if (score.fraction_positive) j["fraction_positive"] = *score.fraction_positive;
    std::cout << j.dump() << "\n";
    return;
  }
  std::cout << score.task << " (n=" << score.samples << ", length " << length << "): accuracy "
            << std::fixed << std::setprecision(3) << score.accuracy << ", answer tokens "
            << score.token_accuracy;
  if (score.mean_logit_diff) {
    std::cout << ", mean logit difference " << *score.mean_logit_diff << ", positive "
              << *score.fraction_positive;
  }
  std::cout << "\n";
}

}  // namespace

void add_zoo_command(CLI::App& app) {
  auto* zoo = app.add_subcommand("zoo", "Train small models with known circuits, and score them");
  zoo->require_subcommand(1);

  zoo->add_subcommand("list", "The recipes in zoo/recipes")->callback(list);

  auto train_args = std::make_shared<TrainArgs>();
  auto* train = zoo->add_subcommand("train", "Train a model from a recipe");
  train->add_option("RECIPE", train_args->recipe, "Recipe name or .json path")->required();
  train->add_option("--out", train_args->out, "Output model directory")->required();
  add_device_option(*train, train_args->device);
  train->add_option("--steps", train_args->steps, "Override the recipe's step count")
      ->check(integer_in(1, kMaxCount));
  add_choice_option(*train, "--save-dtype", train_args->save_dtype,
                    {{"f32", CheckpointDType::kF32}, {"bf16", CheckpointDType::kBF16}},
                    "Checkpoint dtype");
  train->add_option("--init", train_args->init,
                    "Start from this model directory's weights (same shape as the recipe's)");
  add_quiet_flag(*train, train_args->quiet, "No progress bar or evaluation lines");
  train->callback([train_args] { train_command(*train_args); });

  auto eval_args = std::make_shared<EvalArgs>();
  auto* eval = zoo->add_subcommand("eval", "Score a model on generated task samples");
  ModelOptionSet model;
  model.help = "Model directory (a zoo model: the tasks use its vocabulary)";
  model.default_dtype = "f32";
  add_model_options(*eval, eval_args->model, model);
  add_sample_options(*eval, eval_args->samples);
  add_json_flag(*eval, eval_args->json);
  eval->callback([eval_args] { eval_command(*eval_args); });
}

}  // namespace headscope::cli
