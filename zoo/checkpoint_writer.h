// Writes a trained model as a Hugging Face Llama directory (config.json + model.safetensors)
// that transformers and Transformer::load both read.
#pragma once

#include <cstdint>
#include <string>

#include "core/checkpoint/model_config.h"
#include "core/model/model_weights.h"

namespace headscope {

struct SpecialTokens {
  int64_t bos = 0, eos = 0, pad = 0;
};

enum class CheckpointDType : uint8_t { kF32, kBF16 };

// Creates `dir` if needed and replaces config.json and model.safetensors there. Throws IoError
// when a file cannot be written.
void write_llama_checkpoint(const std::string& dir, const ModelConfig& config,
                            const ModelWeights& weights, const SpecialTokens& special,
                            CheckpointDType dtype = CheckpointDType::kF32);

// config.json text in the transformers 4.x dialect (rope_theta at top level).
std::string llama_config_json(const ModelConfig& config, const SpecialTokens& special,
                              CheckpointDType dtype);

}  // namespace headscope
