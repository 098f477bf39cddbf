// Argument parsing and model/tokenizer loading shared by the subcommands. Every error names
// the argument it came from.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <torch/types.h>

#include "core/tokenizer.h"
#include "core/transformer.h"

namespace headscope::cli {

// "1,2,3" -> {1, 2, 3}; `argument` names the option in errors.
std::vector<int64_t> parse_token_list(const std::string& text, const std::string& argument);

torch::Device parse_device(const std::string& text);

// "auto" (unset), "f32", "bf16", "f16".
std::optional<torch::ScalarType> parse_compute_dtype(const std::string& text);

std::shared_ptr<Transformer> load_model(const std::string& dir, const std::string& device,
                                        const std::string& dtype);

// The tokenizer beside a model (tokenizer.json, or encoder.json + vocab.bpe), if any.
std::optional<Tokenizer> tokenizer_for(const std::string& model_dir);

// Prompt from --prompt (needs a tokenizer) or --tokens.
std::vector<int64_t> prompt_tokens(const std::optional<Tokenizer>& tokenizer,
                                   const std::string& model_dir, const std::string& prompt,
                                   const std::string& tokens);

// Per-token display text: the tokenizer's bytes for each id, else the id itself.
std::vector<std::string> token_texts(const std::optional<Tokenizer>& tokenizer,
                                     const std::vector<int64_t>& ids);

// Text of a JSON string literal (quotes included), for hand-written compact output.
std::string json_quote(const std::string& text);

}  // namespace headscope::cli
