// headscope inspect MODEL [--json] [--hooks]
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/cli_args.h"
#include "cli/commands.h"
#include "cli/option_groups.h"
#include "core/checkpoint/model_config.h"

namespace headscope::cli {
namespace {

struct InspectArgs {
  std::string model;
  bool json = false;
  bool hooks = false;
};

const char* torch_dtype_name(torch::ScalarType t) {
  switch (t) {
    case torch::kBFloat16: return "bfloat16";
    case torch::kFloat16: return "float16";
    default: return "float32";
  }
}

void run(const InspectArgs& args) {
  ModelArgs model_args;
  model_args.dir = args.model;
  auto model = load_model(model_args);
  const ModelConfig& c = model->config();
  nlohmann::ordered_json out;
  out["family"] = family_name(c.family);
  out["layers"] = c.n_layers;
  out["heads"] = c.n_heads;
  out["kv_heads"] = c.n_kv_heads;
  out["head_dim"] = c.d_head;
  out["d_model"] = c.d_model;
  out["d_mlp"] = c.d_mlp;
  out["vocab"] = c.vocab_size;
  out["max_positions"] = c.max_positions;
  out["parameters"] = model->weights().parameter_count();
  out["dtype"] = dtype_name(c.dtype);
  out["compute_dtype"] = torch_dtype_name(model->dtype());
  out["positions"] = c.learned_positions ? "learned" : "rotary";
  if (!c.learned_positions) {
    out["rope_theta"] = c.rope.theta;
    out["rotary_dims"] = c.rotary_dims();
  }
  out["tied_embeddings"] = c.tied_embeddings;
  if (args.hooks) out["hooks"] = model->hook_names().all();
  if (args.json) {
    std::cout << out.dump(2) << "\n";
    return;
  }
  for (const auto& [key, value] : out.items()) {
    if (key == "hooks") continue;
    std::cout << key << ": " << (value.is_string() ? value.get<std::string>() : value.dump())
              << "\n";
  }
  if (args.hooks) {
    std::cout << "hooks:\n";
    for (const auto& name : out["hooks"]) std::cout << "  " << name.get<std::string>() << "\n";
  }
}

}  // namespace

void add_inspect_command(CLI::App& app) {
  auto args = std::make_shared<InspectArgs>();
  auto* cmd = app.add_subcommand("inspect", "Show a model's architecture and size");
  cmd->add_option("MODEL", args->model, "Hugging Face model directory")->required();
  add_json_flag(*cmd, args->json);
  cmd->add_flag("--hooks", args->hooks, "Also list every hook point");
  cmd->callback([args] { run(*args); });
}

}  // namespace headscope::cli
