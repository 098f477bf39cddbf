#include "cli/cli_args.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <sstream>

#include <torch/cuda.h>
#include <nlohmann/json.hpp>

#include "core/base/error.h"
#include "core/base/path_exists.h"
#include "core/model/memory_estimate.h"
#include "core/tokenizer/utf8.h"

namespace headscope::cli {
namespace {

std::string join_choices(const std::vector<std::string>& values) {
  std::string out;
  for (size_t i = 0; i < values.size(); ++i) {
    out += (i == 0 ? "" : i + 1 == values.size() ? " or " : ", ") + values[i];
  }
  return out;
}

// The directory a new entry at `path` lands in: an empty parent is the working directory.
std::string parent_of(const std::string& path) {
  const std::string parent = std::filesystem::path(path).parent_path().string();
  return parent.empty() ? "." : parent;
}

void check_writable_dir(const std::string& dir, const std::string& option,
                        const std::string& path) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    throw IoError(option + ": " + path + ": directory " + dir + " does not exist");
  }
  if (!S_ISDIR(st.st_mode))
    throw IoError(option + ": " + path + ": " + dir + " is not a directory");
  if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    throw IoError(option + ": " + path + ": directory " + dir + " is not writable");
  }
}

}  // namespace

CLI::Validator integer_in(int64_t min, int64_t max) {
  const std::string expected =
      "expected an integer from " + std::to_string(min) + " to " + std::to_string(max);
  return CLI::Validator(
      [min, max, expected](std::string& input) -> std::string {
        size_t used = 0;
        long long value = 0;
        try {
          value = std::stoll(input, &used);
        } catch (const std::exception&) {
          used = 0;
        }
        if (input.empty() || used != input.size() || value < min || value > max) {
          return expected + ", got '" + input + "'";
        }
        return {};
      },
      "INT in [" + std::to_string(min) + ", " + std::to_string(max) + "]");
}

CLI::Validator number_in(double min, double max) {
  std::ostringstream range;
  range << "[" << min << ", " << max << "]";
  const std::string expected = "expected a number in " + range.str();
  return CLI::Validator(
      [min, max, expected](std::string& input) -> std::string {
        size_t used = 0;
        double value = 0.0;
        try {
          value = std::stod(input, &used);
        } catch (const std::exception&) {
          used = 0;
        }
        if (input.empty() || used != input.size() || !std::isfinite(value) || value < min ||
            value > max) {
          return expected + ", got '" + input + "'";
        }
        return {};
      },
      "NUMBER in " + range.str());
}

CLI::Validator finite_number() {
  return CLI::Validator(
      [](std::string& input) -> std::string {
        size_t used = 0;
        double value = 0.0;
        try {
          value = std::stod(input, &used);
        } catch (const std::exception&) {
          used = 0;
        }
        if (input.empty() || used != input.size() || !std::isfinite(value)) {
          return "expected a finite number, got '" + input + "'";
        }
        return {};
      },
      "NUMBER");
}

CLI::Validator one_of(std::vector<std::string> values) {
  const std::string expected = "expected " + join_choices(values);
  std::string description;
  for (const auto& v : values) description += (description.empty() ? "" : "|") + v;
  return CLI::Validator(
      [values, expected](std::string& input) -> std::string {
        if (std::find(values.begin(), values.end(), input) != values.end()) return {};
        return expected + ", got '" + input + "'";
      },
      description);
}

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
    if (value > std::numeric_limits<int32_t>::max()) {
      throw InvalidInput(argument + ": " + item + " is larger than any token id (at most " +
                         std::to_string(std::numeric_limits<int32_t>::max()) + ")");
    }
    ids.push_back(value);
    start = end + 1;
  }
  return ids;
}

torch::Device parse_device(const std::string& text) {
  if (text == "auto" || text.find(',') != std::string::npos) {
    throw InvalidInput("--device " + text +
                       ": this takes one device (several, for pipeline placement, only where "
                       "the model is loaded from a checkpoint)");
  }
  if (text == "cpu") return torch::kCPU;
  if (text == "cuda" || text.rfind("cuda:", 0) == 0) {
    if (!torch::cuda::is_available()) {
      throw InvalidInput("--device " + text + ": this build of headscope sees no CUDA device");
    }
    const torch::Device device(text);
    const auto count = static_cast<int64_t>(torch::cuda::device_count());
    if (device.has_index() && device.index() >= count) {
      throw InvalidInput("--device " + text + ": only " + std::to_string(count) +
                         " CUDA device(s) are visible");
    }
    return device;
  }
  throw InvalidInput("--device: expected cpu or cuda, got '" + text + "'");
}

std::vector<torch::Device> parse_devices(const std::string& text) {
  std::vector<torch::Device> devices;
  if (text == "auto") {
    const auto count = static_cast<int64_t>(torch::cuda::device_count());
    if (count == 0)
      throw InvalidInput("--devices auto: this build of headscope sees no CUDA device");
    for (int64_t i = 0; i < count; ++i) devices.emplace_back(torch::kCUDA, i);
    return devices;
  }
  std::string entry;
  std::istringstream in(text);
  while (std::getline(in, entry, ',')) devices.push_back(parse_device(entry));
  return devices;
}

std::optional<torch::ScalarType> parse_compute_dtype(const std::string& text, torch::Device device,
                                                     const std::string& option) {
  if (text == "auto") return std::nullopt;
  if (text == "f32" || text == "float32") return torch::kFloat32;
  if (text == "bf16" || text == "bfloat16") return torch::kBFloat16;
  if (text == "f16" || text == "float16") {
    if (device.is_cpu()) {
      throw InvalidInput(option + " " + text +
                         ": LibTorch has no float16 matrix product on the CPU; use f32 or bf16 "
                         "there, or f16 with --device cuda");
    }
    return torch::kFloat16;
  }
  throw InvalidInput(option + ": expected auto, f32, bf16 or f16, got '" + text + "'");
}

void check_output_file(const std::string& path, const std::string& option) {
  if (path.empty()) return;
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    throw IoError(option + ": " + path + " is a directory; give a file name");
  }
  check_writable_dir(parent_of(path), option, path);
}

void check_output_dir(const std::string& path, const std::string& option) {
  if (path.empty()) return;
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode))
      throw IoError(option + ": " + path + " exists and is not a directory");
    check_writable_dir(path, option, path);
    return;
  }
  // Missing directories are created with their parents: the nearest existing one must be
  // writable.
  std::filesystem::path ancestor = std::filesystem::path(path).parent_path();
  while (!ancestor.empty() && ::stat(ancestor.c_str(), &st) != 0) ancestor = ancestor.parent_path();
  check_writable_dir(ancestor.empty() ? "." : ancestor.string(), option, path);
}

void check_context(const ModelConfig& c, int64_t tokens, bool allow_long, const std::string& what) {
  if (tokens <= c.max_positions) return;
  const std::string count = what + ": " + std::to_string(tokens) + " tokens";
  if (c.learned_positions) {
    throw InvalidInput(count + ", more than the model's " + std::to_string(c.max_positions) +
                       " learned positions");
  }
  if (!allow_long) {
    throw InvalidInput(count + ", more than the model's max_position_embeddings (" +
                       std::to_string(c.max_positions) +
                       "); add --allow-long-context to run them anyway");
  }
}

void check_forward_fits(const Transformer& model, const ForwardShape& shape,
                        const std::string& what, const std::string& hint) {
  const auto element_size = static_cast<int64_t>(torch::elementSize(model.dtype()));
  check_placement_fits(model.placement(), forward_bytes(model.config(), shape, element_size), 0.0,
                       what, hint);
}

std::optional<Tokenizer> tokenizer_for(const std::string& model_dir) {
  if (path_exists(model_dir + "/tokenizer.json") || path_exists(model_dir + "/encoder.json")) {
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
    std::string text =
        known ? utf8_repair(tokenizer->token_text(static_cast<int32_t>(id))) : std::to_string(id);
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
