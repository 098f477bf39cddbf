// Argument parsing and checking and model/tokenizer loading shared by the subcommands. Every
// error names the argument it came from, as the user typed it; every check that can fail runs
// before the computation it guards.
#pragma once

#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <torch/types.h>
#include <CLI/CLI.hpp>

#include "core/model/memory_estimate.h"
#include "core/model/transformer.h"
#include "core/tokenizer/tokenizer.h"

namespace headscope::cli {

// Bounds of counts the options take (README.md, "Limits"); memory is checked separately.
constexpr int64_t kMaxTokens = int64_t{1} << 24;  // prompt and context lengths
constexpr int64_t kMaxStatsParameter = int64_t{1}
                                       << 16;  // --topk, --stats-block-size, --block-size
constexpr int64_t kMaxSamples = 1000000;       // --n
constexpr int64_t kMaxBatch = 4096;            // --batch
constexpr int64_t kMaxRandomConfigs = 100;     // sparse-eval --random-configs
constexpr int64_t kMaxDecodingSteps = 4096;    // retrieval --max-new-tokens
constexpr int64_t kMaxThreads = 4096;          // --threads
constexpr int64_t kMaxCount = std::numeric_limits<int32_t>::max();  // heads, steps, runs
constexpr int64_t kMaxSeed = std::numeric_limits<int64_t>::max();

// Option validators with messages that say what was expected; CLI11 puts the option's name in
// front: "--topk: expected an integer from 1 to 65536, got '0'".
CLI::Validator integer_in(int64_t min, int64_t max);
CLI::Validator number_in(double min, double max);
CLI::Validator finite_number();
CLI::Validator one_of(std::vector<std::string> values);

// "1,2,3" -> {1, 2, 3}; `argument` names the option in errors. Ids above INT32_MAX (the
// recording's token type) are refused.
std::vector<int64_t> parse_token_list(const std::string& text, const std::string& argument);

// One device: cpu, cuda or cuda:N (a list is refused: this use takes one device).
torch::Device parse_device(const std::string& text);
// --device's devices: one, a comma-separated list (pipeline placement,
// core/model/layer_placement.h) or "auto" (--devices auto: every visible GPU).
std::vector<torch::Device> parse_devices(const std::string& text);

// "auto" (unset), "f32", "bf16", "f16"; InvalidInput naming `option` for f16 on the CPU, where
// LibTorch has no float16 matrix product.
std::optional<torch::ScalarType> parse_compute_dtype(const std::string& text, torch::Device device,
                                                     const std::string& option = "--dtype");

// An output file or directory the command will write, checked before any computation: its
// directory (for a directory output, its nearest existing ancestor) exists and is writable, and
// the path itself is not a directory (is one, for a directory output). `option` names it.
void check_output_file(const std::string& path, const std::string& option);
void check_output_dir(const std::string& path, const std::string& option);

// `tokens` positions against the model's context: refused past learned positions always, past
// max_position_embeddings unless `allow_long` (--allow-long-context). `what` names the source
// ("run 2", "--length 4096").
void check_context(const ModelConfig& config, int64_t tokens, bool allow_long,
                   const std::string& what);

// Refuses a forward pass whose peak beyond the loaded weights (forward_bytes) exceeds the free
// memory of the model's device; `what` names the arguments that set its size.
void check_forward_fits(const Transformer& model, const ForwardShape& shape,
                        const std::string& what, const std::string& hint = "");

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
