#include "cli/cli_args.h"

#include <sys/stat.h>

#include <nlohmann/json.hpp>
#include <torch/cuda.h>

#include "core/error.h"
#include "core/utf8.h"

namespace headscope::cli {
namespace {

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

}  // namespace

std::vector<int64_t> parse_token_list(const std::string& text, const std::string& argument) {
  std::vector<int64_t> ids;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t end = std::min(text.find(',', start), text.size());
    std::string item = text.substr(start, end - start);
    item.erase(0, item.find_first_not_of(" \t\r"));
    item.erase(item.find_last_not_of(" \t\r") + 1);
    size_t used = 0;
    long long value = -1;
    try {
      value = std::stoll(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (item.empty() || used != item.size() || value < 0) {
      throw InvalidInput(argument + ": '" + item +
                         "' is not a token id (expected non-negative integers separated by "
                         "commas, e.g. 1,2,3)");
    }
    ids.push_back(value);
    start = end + 1;
  }
  return ids;
}

torch::Device parse_device(const std::string& text) {
  if (text == "cpu") return torch::kCPU;
  if (text == "cuda" || text.rfind("cuda:", 0) == 0) {
    if (!torch::cuda::is_available()) {
      throw InvalidInput("--device " + text + ": this build of headscope sees no CUDA device");
    }
    return torch::Device(text);
  }
  throw InvalidInput("--device: expected cpu or cuda, got '" + text + "'");
}

std::optional<torch::ScalarType> parse_compute_dtype(const std::string& text) {
  if (text == "auto") return std::nullopt;
  if (text == "f32" || text == "float32") return torch::kFloat32;
  if (text == "bf16" || text == "bfloat16") return torch::kBFloat16;
  if (text == "f16" || text == "float16") return torch::kFloat16;
  throw InvalidInput("--compute-dtype: expected auto, f32, bf16 or f16, got '" + text + "'");
}

std::shared_ptr<Transformer> load_model(const std::string& dir, const std::string& device,
                                        const std::string& dtype) {
  ModelLoadOptions options;
  options.device = parse_device(device);
  options.dtype = parse_compute_dtype(dtype);
  return Transformer::load(dir, options);
}

std::optional<Tokenizer> tokenizer_for(const std::string& model_dir) {
  if (exists(model_dir + "/tokenizer.json") || exists(model_dir + "/encoder.json")) {
    return Tokenizer::load(model_dir);
  }
  return std::nullopt;
}

std::vector<int64_t> prompt_tokens(const std::optional<Tokenizer>& tokenizer,
                                   const std::string& model_dir, const std::string& prompt,
                                   const std::string& tokens) {
  if (!prompt.empty() && !tokens.empty()) {
    throw InvalidInput("give either --prompt or --tokens, not both");
  }
  if (!tokens.empty()) return parse_token_list(tokens, "--tokens");
  if (prompt.empty()) throw InvalidInput("give --prompt TEXT or --tokens 1,2,3");
  if (!tokenizer) {
    throw InvalidInput("--prompt: " + model_dir +
                       " has no tokenizer.json (or encoder.json + vocab.bpe); use --tokens");
  }
  auto ids = tokenizer->encode(prompt);
  if (ids.empty()) throw InvalidInput("--prompt: the text encodes to no tokens");
  return {ids.begin(), ids.end()};
}

std::vector<std::string> token_texts(const std::optional<Tokenizer>& tokenizer,
                                     const std::vector<int64_t>& ids) {
  std::vector<std::string> out;
  out.reserve(ids.size());
  for (auto id : ids) {
    const bool known = tokenizer && id < tokenizer->vocab_size();
    // A token can end inside a multi-byte character or be a control byte; stored text must be
    // valid UTF-8 without NUL (HDF5 strings end at NUL).
    std::string text = known ? utf8_repair(tokenizer->token_text(static_cast<int32_t>(id)))
                             : std::to_string(id);
    for (size_t nul = text.find('\0'); nul != std::string::npos; nul = text.find('\0', nul)) {
      text.replace(nul, 1, "\xEF\xBF\xBD");
    }
    out.push_back(std::move(text));
  }
  return out;
}

std::string json_quote(const std::string& text) {
  return nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace headscope::cli
