#include "zoo/checkpoint_writer.h"

#include <filesystem>
#include <fstream>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "core/base/error.h"
#include "core/checkpoint/safetensors.h"

namespace headscope {

std::string llama_config_json(const ModelConfig& c, const SpecialTokens& special,
                              CheckpointDType dtype) {
  nlohmann::ordered_json j;
  j["architectures"] = {"LlamaForCausalLM"};
  j["model_type"] = "llama";
  j["hidden_size"] = c.d_model;
  j["intermediate_size"] = c.d_mlp;
  j["num_hidden_layers"] = c.n_layers;
  j["num_attention_heads"] = c.n_heads;
  j["num_key_value_heads"] = c.n_kv_heads;
  j["head_dim"] = c.d_head;
  j["hidden_act"] = "silu";
  j["rms_norm_eps"] = c.norm_eps;
  j["rope_theta"] = c.rope.theta;
  j["max_position_embeddings"] = c.max_positions;
  j["vocab_size"] = c.vocab_size;
  j["tie_word_embeddings"] = c.tied_embeddings;
  j["bos_token_id"] = special.bos;
  j["eos_token_id"] = special.eos;
  j["pad_token_id"] = special.pad;
  j["attention_bias"] = false;
  j["mlp_bias"] = false;
  j["torch_dtype"] = dtype == CheckpointDType::kBF16 ? "bfloat16" : "float32";
  return j.dump(2) + "\n";
}

void write_llama_checkpoint(const std::string& dir, const ModelConfig& config,
                            const ModelWeights& weights, const SpecialTokens& special,
                            CheckpointDType dtype) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw IoError("cannot create checkpoint directory " + dir + ": " + ec.message());

  const torch::ScalarType scalar =
      dtype == CheckpointDType::kBF16 ? torch::kBFloat16 : torch::kFloat32;
  const DType file_dtype = dtype == CheckpointDType::kBF16 ? DType::kBF16 : DType::kF32;
  std::vector<std::pair<std::string, torch::Tensor>> named;
  auto add = [&](std::string name, const torch::Tensor& t) {
    named.emplace_back(std::move(name), t.detach().to(torch::kCPU, scalar).contiguous());
  };
  add("model.embed_tokens.weight", weights.embed);
  for (size_t i = 0; i < weights.layers.size(); ++i) {
    const LayerWeights& l = weights.layers[i];
    const std::string p = "model.layers." + std::to_string(i) + ".";
    add(p + "input_layernorm.weight", l.ln1_w);
    add(p + "self_attn.q_proj.weight", l.wq);
    add(p + "self_attn.k_proj.weight", l.wk);
    add(p + "self_attn.v_proj.weight", l.wv);
    add(p + "self_attn.o_proj.weight", l.wo);
    add(p + "post_attention_layernorm.weight", l.ln2_w);
    add(p + "mlp.gate_proj.weight", l.w_gate);
    add(p + "mlp.up_proj.weight", l.w_up);
    add(p + "mlp.down_proj.weight", l.w_down);
  }
  add("model.norm.weight", weights.final_norm_w);
  if (!config.tied_embeddings) add("lm_head.weight", weights.unembed);

  std::vector<TensorToWrite> tensors;
  for (const auto& [name, t] : named) {
    tensors.push_back({name, file_dtype, t.sizes().vec(), t.data_ptr()});
  }
  const auto path = std::filesystem::path(dir);
  write_safetensors((path / "model.safetensors").string(), tensors, {{"format", "pt"}});

  const std::string config_path = (path / "config.json").string();
  std::ofstream out(config_path, std::ios::trunc);
  out << llama_config_json(config, special, dtype);
  if (!out.flush()) throw IoError("cannot write " + config_path);
}

}  // namespace headscope
