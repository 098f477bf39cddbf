// headscope demo [MODEL] [--out DIR]: the README's main job on the shipped zoo model. Builds a
// needle-in-a-haystack prompt, lets the model answer it greedily (KV cache), records the
// sequence (every attention map, attention statistics, logits), prints which heads read the
// needle while the answer is produced, and draws layer x head grids as PNG files.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "analyses/head_attention_profile.h"
#include "analyses/tasks/needle_task.h"
#include "analyses/tasks/vocabulary.h"
#include "cli/cli_args.h"
#include "cli/commands.h"
#include "core/error.h"
#include "core/generate.h"
#include "hooks/activation_recorder.h"
#ifdef HEADSCOPE_WITH_GUI
#include "gui/head_grid_image.h"
#endif

namespace headscope::cli {
namespace {

struct DemoArgs {
  std::string model = std::string(HEADSCOPE_SOURCE_DIR) + "/zoo/models/needle-4x8";
  std::string out = "headscope-demo";
  int64_t length = 512;
  double depth = 0.4;
  uint64_t seed = 2026;
};

int64_t metadata_int(const TaskSample& s, const std::string& key) {
  return std::stoll(s.metadata.at(key));
}

// One line of text: the haystack's line breaks show as spaces.
std::string render(const std::vector<int32_t>& ids, int64_t begin, int64_t end) {
  std::string text =
      Vocabulary::builtin().render(std::vector<int32_t>(ids.begin() + begin, ids.begin() + end));
  std::replace(text.begin(), text.end(), '\n', ' ');
  return text;
}

void print_heads(const std::string& title, const torch::Tensor& values, int64_t count) {
  std::cout << title << "\n ";
  for (const auto& [layer, head] : top_heads(values, count)) {
    std::printf("  %lld.%lld (%.2f)", static_cast<long long>(layer), static_cast<long long>(head),
                values[layer][head].item<double>());
  }
  std::cout << "\n";
}

#ifdef HEADSCOPE_WITH_GUI
void draw(const torch::Tensor& values, const std::string& title, const std::string& unit,
          const std::filesystem::path& path, std::optional<std::pair<double, double>> range) {
  HeadGrid grid{title, unit, {}};
  for (int64_t l = 0; l < values.size(0); ++l) {
    grid.value.emplace_back();
    for (int64_t h = 0; h < values.size(1); ++h)
      grid.value.back().push_back(values[l][h].item<double>());
  }
  HeadGridImageOptions options;
  if (range) options.with_range(range->first, range->second);
  write_head_grid_png(grid, path.string(), options);
  std::cout << "wrote " << path.string() << "\n";
}
#endif

void run(const DemoArgs& args) {
  auto model = load_model(args.model, "cpu", "f32");
  const ModelConfig& c = model->config();
  const Vocabulary& vocab = Vocabulary::builtin();
  if (c.vocab_size != vocab.size()) {
    throw InvalidInput("demo: " + args.model + " does not use the zoo's built-in vocabulary (" +
                       std::to_string(vocab.size()) + " tokens); pass a model from zoo/models");
  }
  if (args.length > c.max_positions) {
    throw InvalidInput("--length " + std::to_string(args.length) + " exceeds the model's " +
                       std::to_string(c.max_positions) + " positions");
  }
  std::cout << "model: " << args.model << "\n  " << family_name(c.family) << ", " << c.n_layers
            << " layers x " << c.n_heads << " heads, d_model " << c.d_model << ", "
            << model->weights().parameter_count() << " parameters\n";

  // 1. A needle in a haystack, answered greedily by the model.
  const TaskSample sample = needle_task(
      TaskOptions().with_seed(args.seed).with_length(args.length).with_depth(args.depth));
  const int64_t value_begin = metadata_int(sample, "value_begin");
  const int64_t value_end = metadata_int(sample, "value_end");
  const int64_t answer_len = sample.answer_end - sample.answer_begin;
  std::cout << "\nneedle at depth " << args.depth << " of " << args.length << " tokens:"
            << render(sample.tokens, metadata_int(sample, "needle_begin"),
                      metadata_int(sample, "needle_end"))
            << "\nquestion:"
            << render(sample.tokens, metadata_int(sample, "question_begin"), sample.answer_begin)
            << "\n";
  auto prompt = torch::tensor(std::vector<int64_t>(sample.tokens.begin(),
                                                   sample.tokens.begin() + sample.answer_begin))
                    .unsqueeze(0);
  GenerateOptions generate;
  generate.max_new_tokens = answer_len;
  const auto generated = greedy_generate(*model, prompt, generate);
  std::vector<int64_t> tokens(generated.data_ptr<int64_t>(),
                              generated.data_ptr<int64_t>() + generated.numel());
  std::vector<int32_t> answer(tokens.begin() + sample.answer_begin, tokens.end());
  const bool correct =
      std::equal(answer.begin(), answer.end(), sample.tokens.begin() + sample.answer_begin);
  std::cout << "model's answer:" << vocab.render(answer)
            << "   expected:" << render(sample.tokens, sample.answer_begin, sample.answer_end)
            << "   -> " << (correct ? "correct" : "WRONG") << "\n";

  // 2. Record the sequence the model produced, and profile each head on the way.
  std::filesystem::create_directories(args.out);
  const auto recording = std::filesystem::path(args.out) / "recording.h5";
  std::filesystem::remove(recording);
  HookedModel hooked(model);
  HeadProfile profile;
  {
    ScopedHooks hooks(hooked);
    attach_head_profile(hooks, c,
                        HeadProfileOptions()
                            .with_queries(sample.answer_begin - 1, sample.answer_end - 1)
                            .with_span(value_begin, value_end),
                        profile);
    auto writer = RecordingWriter::create(recording.string(), summarize(*model));
    auto run = writer.begin_run();
    run.write_tokens({tokens.begin(), tokens.end()});
    run.write_token_text(token_texts(tokenizer_for(args.model), tokens));
    run.set_attribute("task", "niah");
    run.set_attribute("prompt", "demo: needle in a haystack");
    run.set_attribute("", "seed", static_cast<int64_t>(args.seed));
    run.set_attribute("", "depth", args.depth);
    for (const char* key : {"needle_begin", "needle_end", "value_begin", "value_end"}) {
      run.set_attribute("", key, metadata_int(sample, key));
    }
    run.set_attribute("", "answer_begin", sample.answer_begin);
    run.set_attribute("", "answer_end", sample.answer_end);
    run.set_attribute("", "answer_correct", static_cast<int64_t>(correct));
    record_activations(hooked, tokens,
                       RecordOptions()
                           .with_attention(AttentionRecording::kFullAndStats)
                           .with_stats(AttentionStatsOptions().with_scale(model->attention_scale()))
                           .with_logits(true),
                       run);
    run.commit();
  }
  std::cout << "recorded " << tokens.size()
            << " positions (every attention map, attention statistics, logits) to "
            << recording.string() << "\n\n";

  // 3. What the heads do.
  print_heads("heads reading the needle's value while answering (mean attention mass on its " +
                  std::to_string(value_end - value_begin) + " tokens):",
              profile.span_mass, 5);
  print_heads("previous-token heads (mean mass on the token before):", profile.previous_mass, 5);
  print_heads("sink heads (mean mass on <bos>):", profile.first_mass, 5);
  print_heads("broadest heads (mean entropy, nats):", profile.entropy, 3);

#ifdef HEADSCOPE_WITH_GUI
  std::cout << "\n";
  draw(profile.span_mass, "attention mass on the needle's value while answering", "mass",
       std::filesystem::path(args.out) / "needle_attention.png", std::make_pair(0.0, 1.0));
  draw(profile.entropy, "mean attention entropy", "nats",
       std::filesystem::path(args.out) / "entropy.png", std::nullopt);
#else
  std::cout << "\n(no PNG: this build has no Qt 6)\n";
#endif
  std::cout << "\nopen it: /usr/bin/python3 -c \"import h5py; f = h5py.File('" << recording.string()
            << "'); print(f['runs/0/blocks.0.attn.hook_pattern'].shape)\"\n";
}

}  // namespace

void add_demo_command(CLI::App& app) {
  auto args = std::make_shared<DemoArgs>();
  auto* cmd = app.add_subcommand("demo", "Needle-in-a-haystack walk-through on the shipped model");
  cmd->add_option("MODEL", args->model, "Zoo model directory (default: zoo/models/needle-4x8)");
  cmd->add_option("--out", args->out, "Output directory (recording.h5, PNG grids)");
  cmd->add_option("--length", args->length, "Prompt tokens")->check(CLI::Range(64, 1 << 20));
  cmd->add_option("--depth", args->depth, "Needle depth in [0, 1]")->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--seed", args->seed, "Seed of the needle example");
  cmd->callback([args] { run(*args); });
}

}  // namespace headscope::cli
