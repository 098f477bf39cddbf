// headscope generate MODEL (--prompt TEXT | --tokens 1,2,3) [--max-new-tokens N]
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/cli_args.h"
#include "cli/commands.h"
#include "cli/option_groups.h"
#include "core/base/error.h"
#include "core/base/progress_bar.h"
#include "core/model/generate.h"
#include "core/model/memory_estimate.h"

namespace headscope::cli {
namespace {

struct GenerateArgs {
  ModelArgs model;
  std::string prompt;
  std::string tokens;
  int64_t max_new_tokens = 32;
  bool stop_at_eos = false;
  bool quiet = false;
  bool json = false;
};

void run(const GenerateArgs& args) {
  auto model = load_model(args.model);
  auto tokenizer = tokenizer_for(args.model.dir);
  auto prompt = prompt_tokens(tokenizer, args.model.dir, args.prompt, args.tokens);
  const auto total = static_cast<int64_t>(prompt.size()) + args.max_new_tokens;
  check_context(model->config(), total, args.model.allow_long_context,
                "the prompt plus --max-new-tokens " + std::to_string(args.max_new_tokens));
  ForwardShape prefill;
  prefill.tokens = static_cast<int64_t>(prompt.size());
  prefill.logit_positions = 1;
  const auto element_size = static_cast<int64_t>(torch::elementSize(model->dtype()));
  const ModelConfig& c = model->config();
  check_placement_fits(model->placement(), forward_bytes(c, prefill, element_size),
                       kv_cache_bytes(c, 1, total, element_size) / static_cast<double>(c.n_layers),
                       "generating " + std::to_string(args.max_new_tokens) + " tokens after a " +
                           std::to_string(prompt.size()) + "-token prompt (KV cache of " +
                           std::to_string(total) + " positions)");
  GenerateOptions options;
  options.max_new_tokens = args.max_new_tokens;
  ProgressBar progress("generate", args.max_new_tokens, args.quiet);
  options.on_token = [&progress](int64_t) { progress.advance(); };
  if (args.stop_at_eos) {
    if (!model->config().eos_token_id) {
      throw InvalidInput("--stop-at-eos: config.json of " + args.model.dir +
                         " has no eos_token_id");
    }
    options.stop_token = model->config().eos_token_id;
  }
  auto out = greedy_generate(*model, torch::tensor(prompt, torch::kInt64).unsqueeze(0), options);
  std::vector<int64_t> all(out.data_ptr<int64_t>(), out.data_ptr<int64_t>() + out.numel());
  std::vector<int64_t> generated(all.begin() + static_cast<int64_t>(prompt.size()), all.end());
  std::string text;
  if (tokenizer) text = tokenizer->decode({generated.begin(), generated.end()});
  if (args.json) {
    nlohmann::ordered_json out_json;
    out_json["prompt_tokens"] = prompt;
    out_json["generated_tokens"] = generated;
    out_json["text"] = text;
    std::cout << out_json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return;
  }
  std::cout << "tokens:";
  for (auto id : generated) std::cout << " " << id;
  std::cout << "\n";
  if (tokenizer) std::cout << "text: " << text << "\n";
}

}  // namespace

void add_generate_command(CLI::App& app) {
  auto args = std::make_shared<GenerateArgs>();
  auto* cmd = app.add_subcommand("generate", "Greedy continuation with a KV cache");
  ModelOptionSet model;
  model.long_context = true;
  add_model_options(*cmd, args->model, model);
  cmd->add_option("--prompt", args->prompt, "Prompt text (needs the model's tokenizer)");
  cmd->add_option("--tokens", args->tokens, "Prompt as comma-separated token ids");
  cmd->add_option("--max-new-tokens", args->max_new_tokens,
                  "Tokens to generate (the prompt plus these must fit the model's context)")
      ->capture_default_str()
      ->check(integer_in(0, kMaxTokens));
  cmd->add_flag("--stop-at-eos", args->stop_at_eos, "Stop at the config's eos_token_id");
  add_quiet_flag(*cmd, args->quiet);
  add_json_flag(*cmd, args->json);
  cmd->callback([args] { run(*args); });
}

}  // namespace headscope::cli
