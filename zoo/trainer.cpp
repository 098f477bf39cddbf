#include "zoo/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <sstream>

#include <ATen/Context.h>
#include <torch/torch.h>

#include "analyses/tasks/generate_task.h"
#include "analyses/tasks/vocabulary.h"
#include "core/base/error.h"
#include "core/base/progress_bar.h"
#include "core/model/transformer.h"
#include "zoo/batch.h"
#include "zoo/model_init.h"
#include "zoo/training_report.h"

namespace headscope {
namespace {

// Independent seed streams, so adding evaluation never changes the training batches.
constexpr uint64_t kTrainStream = 0x7261696eULL, kEvalStream = 0x6576616cULL;

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}
uint64_t mix(uint64_t a, uint64_t b) {
  return splitmix64(a ^ splitmix64(b));
}

int64_t pick_length(const TaskMix& task, uint64_t seed) {
  const auto range = static_cast<uint64_t>(task.max_length - task.min_length + 1);
  return task.min_length + static_cast<int64_t>(mix(seed, 1) % range);
}

// One length per training step, log-uniform over all tasks' ranges (short sequences often, so
// retrieval circuits form early; long ones a quarter of the time at 64..1024), each task's
// sample clamped into its own range.
int64_t step_length(const std::vector<TaskMix>& tasks, uint64_t seed) {
  int64_t low = tasks[0].min_length, high = tasks[0].max_length;
  for (const auto& t : tasks) {
    low = std::min(low, t.min_length);
    high = std::max(high, t.max_length);
  }
  const double u = static_cast<double>(mix(seed, 1) >> 11) * 0x1.0p-53;
  const double length = std::exp(std::log(static_cast<double>(low)) +
                                 u * std::log(static_cast<double>(high + 1) / low));
  return std::min<int64_t>(high, static_cast<int64_t>(length));
}

const TaskMix& pick_task(const std::vector<TaskMix>& tasks, uint64_t seed) {
  double total = 0.0;
  for (const auto& t : tasks) total += t.weight;
  const double u = static_cast<double>(mix(seed, 0) >> 11) * 0x1.0p-53 * total;
  double cumulative = 0.0;
  for (const auto& t : tasks) {
    cumulative += t.weight;
    if (u < cumulative) return t;
  }
  return tasks.back();
}

std::map<std::string, TaskScore> evaluate_all(const Transformer& model, const Recipe& recipe,
                                              const SampleFn& sample) {
  std::map<std::string, TaskScore> scores;
  for (size_t k = 0; k < recipe.tasks.size(); ++k) {
    const TaskMix& task = recipe.tasks[k];
    const uint64_t base = mix(mix(recipe.training.seed, kEvalStream), k);
    std::vector<TaskSample> samples;
    for (int64_t i = 0; i < recipe.training.eval_samples; ++i) {
      const uint64_t seed = mix(base, static_cast<uint64_t>(i));
      samples.push_back(sample(task, pick_length(task, seed), seed));
    }
    scores[task.task] =
        score_samples(model, samples, recipe.special.pad, recipe.training.batch_size);
  }
  return scores;
}

torch::optim::AdamW make_optimizer(const ModelWeights& weights, const TrainingSettings& s) {
  // Weight decay on matrices only; norm gains stay free.
  std::vector<torch::Tensor> matrices, vectors;
  for (const auto& p : parameters(weights)) (p.dim() >= 2 ? matrices : vectors).push_back(p);
  auto options = [&](double decay) {
    return std::make_unique<torch::optim::AdamWOptions>(
        torch::optim::AdamWOptions(s.lr).betas(std::make_tuple(0.9, 0.95)).weight_decay(decay));
  };
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(matrices, options(s.weight_decay));
  groups.emplace_back(vectors, options(0.0));
  return torch::optim::AdamW(groups, torch::optim::AdamWOptions(s.lr));
}

void log_scores(std::ostream* log, int64_t step, const std::map<std::string, TaskScore>& scores) {
  if (log == nullptr) return;
  std::ostringstream line;
  line << "step " << step << ":";
  for (const auto& [task, score] : scores) {
    line << " " << task << " acc " << score.accuracy << " (tokens " << score.token_accuracy << ")";
  }
  *log << line.str() << "\n";
}

void copy_initial_weights(const std::string& dir, const ModelConfig& config,
                          const ModelWeights& weights, torch::Device device) {
  const auto init =
      Transformer::load(dir, ModelLoadOptions().with_dtype(torch::kFloat32).with_device(device));
  const ModelConfig& c = init->config();
  if (c.n_layers != config.n_layers || c.n_heads != config.n_heads ||
      c.n_kv_heads != config.n_kv_heads || c.d_model != config.d_model ||
      c.d_head != config.d_head || c.d_mlp != config.d_mlp || c.vocab_size != config.vocab_size ||
      c.tied_embeddings != config.tied_embeddings) {
    throw InvalidInput("--init " + dir + ": the model's shape differs from the recipe's model");
  }
  const std::vector<torch::Tensor> from = parameters(init->weights());
  const std::vector<torch::Tensor> to = parameters(weights);
  HS_ASSERT(from.size() == to.size());
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < to.size(); ++i) to[i].copy_(from[i]);
}

}  // namespace

TaskSample generated_sample(const TaskMix& task, int64_t length, uint64_t seed) {
  const double depth = static_cast<double>(mix(seed, 3) >> 11) * 0x1.0p-53;
  return generate_task(task.task,
                       TaskOptions().with_seed(seed).with_length(length).with_depth(depth));
}

double learning_rate(const TrainingSettings& s, int64_t steps, int64_t step) {
  if (step < s.warmup_steps) {
    return s.lr * static_cast<double>(step + 1) / static_cast<double>(s.warmup_steps);
  }
  const int64_t decay_steps = std::max<int64_t>(1, steps - s.warmup_steps);
  const double progress =
      std::min(1.0, static_cast<double>(step - s.warmup_steps) / static_cast<double>(decay_steps));
  const double cosine = 0.5 * (1.0 + std::cos(M_PI * progress));
  return s.lr * (s.min_lr_ratio + (1.0 - s.min_lr_ratio) * cosine);
}

TrainResult train(const Recipe& recipe, const SampleFn& sample, const TrainOptions& options) {
  const TrainingSettings& s = recipe.training;
  const int64_t steps = options.steps.value_or(s.steps);
  torch::manual_seed(s.seed);
  if (options.device.is_cuda()) at::globalContext().setFloat32MatmulPrecision("high");  // TF32

  const ModelWeights weights = init_llama_weights(recipe.model, s.seed, options.device);
  if (!options.init_from.empty()) {
    copy_initial_weights(options.init_from, recipe.model, weights, options.device);
  }
  const auto model = Transformer::from_weights(recipe.model, weights, options.out_dir);
  const std::vector<torch::Tensor> params = parameters(weights);
  auto optimizer = make_optimizer(weights, s);
  auto save = [&](const std::string& dir) {
    write_llama_checkpoint(dir, recipe.model, weights, recipe.special, options.save_dtype);
    Vocabulary::builtin().write_tokenizer_json(
        (std::filesystem::path(dir) / "tokenizer.json").string());
  };

  TrainResult result;
  TrainingReport report(recipe, steps, options.device);
  ProgressBar bar("train " + recipe.name, steps, options.quiet);
  const auto start = std::chrono::steady_clock::now();
  const uint64_t train_seed = mix(s.seed, kTrainStream);
  for (int64_t step = 0; step < steps; ++step) {
    // Every batch mixes the tasks (each row draws its own), so each task gets a gradient at
    // every step; rows share one length so padding stays small for the long tasks.
    const uint64_t batch_seed = mix(train_seed, static_cast<uint64_t>(step));
    const int64_t length = step_length(recipe.tasks, batch_seed);
    std::vector<TaskSample> samples;
    for (int64_t i = 0; i < s.batch_size; ++i) {
      const uint64_t row_seed = mix(batch_seed, 2 + static_cast<uint64_t>(i));
      const TaskMix& task = pick_task(recipe.tasks, row_seed);
      samples.push_back(
          sample(task, std::clamp(length, task.min_length, task.max_length), row_seed));
    }
    const Batch batch = make_batch(samples, recipe.special.pad, options.device);

    const double lr = learning_rate(s, steps, step);
    for (auto& group : optimizer.param_groups()) {
      static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
    }
    optimizer.zero_grad();
    const auto logits = model->forward(batch.tokens);
    const int64_t vocab = logits.size(-1);
    const auto predicted = logits.slice(1, 0, logits.size(1) - 1).reshape({-1, vocab});
    const auto token_loss =
        torch::nn::functional::cross_entropy(
            predicted, batch.targets.reshape({-1}),
            torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone))
            .view_as(batch.answer_mask);
    const auto loss =
        weighted_task_loss(token_loss, batch, recipe.answer_weight, recipe.filler_weight);
    loss.backward();
    if (s.grad_clip > 0.0) torch::nn::utils::clip_grad_norm_(params, s.grad_clip);
    optimizer.step();

    const double loss_value = loss.item<double>();
    result.losses.push_back(loss_value);
    result.tokens += batch.real_tokens;
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::ostringstream detail;
    detail.precision(4);
    detail << "loss " << loss_value << " | " << static_cast<int64_t>(result.tokens / seconds)
           << " tok/s";
    bar.advance(1, detail.str());

    const int64_t done = step + 1;
    if (s.eval_every > 0 && done % s.eval_every == 0 && done < steps) {
      const auto scores = evaluate_all(*model, recipe, sample);
      log_scores(options.log, done, scores);
      report.add_eval(done, scores);
    }
    if (!options.out_dir.empty() && s.checkpoint_every > 0 && done % s.checkpoint_every == 0 &&
        done < steps) {
      save((std::filesystem::path(options.out_dir) / "checkpoints" /
            ("step-" + std::to_string(done)))
               .string());
    }
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  result.final_scores = evaluate_all(*model, recipe, sample);
  log_scores(options.log, steps, result.final_scores);
  report.add_eval(steps, result.final_scores);
  if (!options.out_dir.empty()) {
    save(options.out_dir);
    report.write((std::filesystem::path(options.out_dir) / "training.json").string(), result);
  }
  return result;
}

}  // namespace headscope
