// headscope demo [MODEL] [--out FILE.h5]: the whole pipeline on a bundled model: load, greedy
// generation with a KV cache, a recording of every attention map, and a per-head summary read
// from the hooks of the same pass.
#include <cmath>
#include <cstdio>
#include <iostream>

#include "cli/cli_args.h"
#include "cli/commands.h"
#include "core/generate.h"
#include "hooks/activation_recorder.h"

namespace headscope::cli {
namespace {

struct DemoArgs {
  std::string model = std::string(HEADSCOPE_SOURCE_DIR) + "/tests/fixtures/hf-tiny/llama";
  std::string out = "headscope-demo.h5";
};

struct HeadSummary {
  double entropy = 0;   // mean over query rows, nats
  double first = 0;     // mean mass on position 0
  double previous = 0;  // mean mass on the previous position
};

std::vector<std::vector<HeadSummary>> summarize_patterns(HookedModel& hooked,
                                                         const ModelConfig& c) {
  std::vector<std::vector<HeadSummary>> table(static_cast<size_t>(c.n_layers),
                                              std::vector<HeadSummary>(c.n_heads));
  for (int64_t layer = 0; layer < c.n_layers; ++layer) {
    hooked.add_hook("blocks." + std::to_string(layer) + ".attn.hook_pattern",
                    [&table, layer](const torch::Tensor& p, const HookContext&) {
                      auto pattern = p.select(0, 0).to(torch::kFloat64);  // [H, T, T]
                      const int64_t t = pattern.size(1);
                      auto entropy = -(pattern * pattern.clamp_min(1e-300).log()).sum(-1).mean(-1);
                      auto first = pattern.select(2, 0).mean(-1);
                      auto prev = pattern.diagonal(-1, 1, 2).sum(-1) / std::max<int64_t>(t - 1, 1);
                      for (int64_t h = 0; h < pattern.size(0); ++h) {
                        auto& s = table[static_cast<size_t>(layer)][static_cast<size_t>(h)];
                        s.entropy = entropy[h].item<double>();
                        s.first = first[h].item<double>();
                        s.previous = prev[h].item<double>();
                      }
                      return std::nullopt;
                    });
  }
  return table;
}

void run(const DemoArgs& args) {
  auto model = load_model(args.model, "cpu", "auto");
  const ModelConfig& c = model->config();
  std::cout << "model: " << args.model << "\n  " << family_name(c.family) << ", " << c.n_layers
            << " layers x " << c.n_heads << " heads (" << c.n_kv_heads << " kv), d_model "
            << c.d_model << ", " << model->weights().parameter_count() << " parameters\n";

  // A random block of tokens repeated: the second copy is predictable from the first, the
  // setting where induction heads form in trained models.
  torch::manual_seed(0);
  auto block = torch::randint(0, c.vocab_size, {1, 12}, torch::kInt64);
  auto prompt = torch::cat({block, block.narrow(1, 0, 4)}, 1);
  GenerateOptions options;
  options.max_new_tokens = 8;
  auto generated = greedy_generate(*model, prompt, options);
  std::vector<int64_t> tokens(generated.data_ptr<int64_t>(),
                              generated.data_ptr<int64_t>() + generated.numel());
  std::cout << "greedy continuation (KV cache):";
  for (size_t i = static_cast<size_t>(prompt.size(1)); i < tokens.size(); ++i) {
    std::cout << " " << tokens[i];
  }
  std::cout << "\n";

  HookedModel hooked(model);
  auto table = summarize_patterns(hooked, c);
  std::remove(args.out.c_str());
  auto writer = RecordingWriter::create(args.out, summarize(*model));
  auto run = writer.begin_run();
  run.write_tokens({tokens.begin(), tokens.end()});
  run.write_token_text(token_texts(tokenizer_for(args.model), tokens));
  run.set_attribute("prompt", "demo: random block repeated");
  run.set_attribute("task", "demo");
  record_activations(hooked, tokens, RecordOptions().with_logits(true), run);
  run.commit();
  std::cout << "recorded " << tokens.size() << " positions, every attention map and the logits, to "
            << args.out << "\n\nlayer.head  entropy(nats)  mass@first  mass@previous\n";
  for (int64_t layer = 0; layer < c.n_layers; ++layer) {
    for (int64_t h = 0; h < c.n_heads; ++h) {
      const auto& s = table[static_cast<size_t>(layer)][static_cast<size_t>(h)];
      std::printf("%5lld.%-4lld  %13.3f  %10.3f  %13.3f\n", static_cast<long long>(layer),
                  static_cast<long long>(h), s.entropy, s.first, s.previous);
    }
  }
  std::cout << "\nopen it: /usr/bin/python3 -c \"import h5py; f = h5py.File('" << args.out
            << "'); print(f['runs/0/blocks.0.attn.hook_pattern'].shape)\"\n";
}

}  // namespace

void add_demo_command(CLI::App& app) {
  auto args = std::make_shared<DemoArgs>();
  auto* cmd = app.add_subcommand("demo", "Run the whole pipeline on the bundled model");
  cmd->add_option("MODEL", args->model, "Model directory (default: the bundled one)");
  cmd->add_option("--out", args->out, "Recording to write");
  cmd->callback([args] { run(*args); });
}

}  // namespace headscope::cli
