// headscope tokenize MODEL_OR_TOKENIZER (--text TEXT | --file F | --decode 1,2,3) [--json]
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/cli_args.h"
#include "cli/commands.h"
#include "cli/option_groups.h"
#include "core/base/error.h"
#include "core/base/text_file.h"

namespace headscope::cli {
namespace {

struct TokenizeArgs {
  std::string source;
  std::string text;
  std::string file;
  std::string decode;
  bool json = false;
};

void run(const TokenizeArgs& args) {
  const int given = !args.text.empty() + !args.file.empty() + !args.decode.empty();
  if (given != 1) throw InvalidInput("give exactly one of --text, --file or --decode");
  auto tokenizer = Tokenizer::load(args.source);
  if (!args.decode.empty()) {
    const auto ids64 = parse_token_list(args.decode, "--decode");
    const int64_t vocab = tokenizer.vocab_size();
    for (int64_t id : ids64) {
      if (id >= vocab) {
        throw InvalidInput("--decode: id " + std::to_string(id) +
                           " is outside the vocabulary of " + std::to_string(vocab) +
                           " tokens (ids 0 to " + std::to_string(vocab - 1) + ")");
      }
    }
    std::vector<int32_t> ids(ids64.begin(), ids64.end());
    const std::string text = tokenizer.decode(ids);
    if (args.json) {
      std::cout << "{\"text\": " << json_quote(text) << "}\n";
    } else {
      std::cout << text << "\n";
    }
    return;
  }
  const std::string text = args.text.empty() ? read_text_file(args.file, "--file") : args.text;
  const auto ids = tokenizer.encode(text);
  if (args.json) {
    nlohmann::ordered_json out;
    out["ids"] = ids;
    std::vector<std::string> pieces;
    for (auto id : ids) pieces.push_back(tokenizer.token_piece(id));
    out["tokens"] = pieces;
    std::cout << out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return;
  }
  std::cout << ids.size() << " tokens\n";
  for (auto id : ids) std::cout << id << "\t" << json_quote(tokenizer.token_text(id)) << "\n";
}

}  // namespace

void add_tokenize_command(CLI::App& app) {
  auto args = std::make_shared<TokenizeArgs>();
  auto* cmd = app.add_subcommand("tokenize", "Encode text to token ids, or decode ids");
  cmd->add_option("MODEL_OR_TOKENIZER", args->source,
                  "Model directory, tokenizer.json, or folder with encoder.json + vocab.bpe")
      ->required();
  cmd->add_option("--text", args->text, "Text to encode");
  cmd->add_option("--file", args->file, "File whose contents to encode");
  cmd->add_option("--decode", args->decode, "Comma-separated ids to decode");
  add_json_flag(*cmd, args->json);
  cmd->callback([args] { run(*args); });
}

}  // namespace headscope::cli
