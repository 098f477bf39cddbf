// Tokenizer::from_gpt2_files: OpenAI's encoder.json + vocab.bpe, encoded as encoder.py does
// (no normalizer, the GPT-2 regex, no added tokens).
#include <limits>

#include "core/base/error.h"
#include "core/base/json_file.h"
#include "core/base/text_file.h"
#include "core/tokenizer/tokenizer.h"
#include "core/tokenizer/tokenizer_state.h"

namespace headscope {
namespace {

std::unordered_map<std::string, int32_t> read_encoder(const std::string& path) {
  const nlohmann::json encoder = read_json_file(path);
  if (!encoder.is_object()) throw InvalidInput(path + ": must be a JSON object of piece: id");
  std::unordered_map<std::string, int32_t> vocab;
  vocab.reserve(encoder.size());
  for (const auto& [piece, id] : encoder.items()) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0 ||
        id.get<int64_t>() > std::numeric_limits<int32_t>::max()) {
      throw InvalidInput(path + ": field \"" + piece + "\" must be a non-negative 32-bit integer");
    }
    vocab.emplace(piece, static_cast<int32_t>(id.get<int64_t>()));
  }
  return vocab;
}

// One "left right" merge per line; the "#version" header and blank lines carry no merge.
std::vector<std::pair<std::string, std::string>> read_merges(const std::string& path) {
  const std::string text = read_text_file(path);
  std::vector<std::pair<std::string, std::string>> merges;
  size_t line_number = 0;
  for (size_t start = 0; start < text.size();) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + start, end - start);
    start = end + 1;
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || (line_number == 1 && line[0] == '#')) continue;
    const size_t space = line.find(' ');
    if (space == 0 || space == std::string_view::npos || space + 1 == line.size() ||
        line.find(' ', space + 1) != std::string_view::npos) {
      throw InvalidInput(path + ":" + std::to_string(line_number) +
                         ": expected a merge \"left right\" with one space");
    }
    merges.emplace_back(std::string(line.substr(0, space)), std::string(line.substr(space + 1)));
  }
  return merges;
}

}  // namespace

Tokenizer Tokenizer::from_gpt2_files(const std::string& encoder_json,
                                     const std::string& vocab_bpe) {
  auto state = std::make_shared<TokenizerState>();
  const std::unordered_map<std::string, int32_t> vocab = read_encoder(encoder_json);
  for (const auto& [piece, id] : vocab) state->add_piece(piece, id);
  state->bpe =
      std::make_unique<BpeModel>(vocab, read_merges(vocab_bpe), false, encoder_json, vocab_bpe);
  state->pre_tokenizer.add_split(std::make_unique<RegexSplit>(kGpt2SplitPattern));
  return Tokenizer(std::move(state));
}

}  // namespace headscope
