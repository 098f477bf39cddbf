// Tokenizer::from_tokenizer_json: the subset of Hugging Face's tokenizer.json that byte-level BPE
// models use. Anything outside it is refused by name rather than silently encoded differently.
#include <limits>

#include "core/base/error.h"
#include "core/base/json_file.h"
#include "core/tokenizer/tokenizer.h"
#include "core/tokenizer/tokenizer_state.h"
#include "core/tokenizer/utf8.h"

namespace headscope {
namespace {

using nlohmann::json;

// Field access where every error names the file and the dotted field path.
class JsonReader {
 public:
  explicit JsonReader(std::string path) : path_(std::move(path)) {}

  [[noreturn]] void fail(const std::string& field, const std::string& problem) const {
    throw InvalidInput(path_ + ": field \"" + field + "\" " + problem);
  }

  static std::string child(const std::string& field, const std::string& key) {
    return field.empty() ? key : field + "." + key;
  }
  static std::string item(const std::string& field, size_t index) {
    return field + "[" + std::to_string(index) + "]";
  }

  // nullptr when the key is absent or null.
  const json* find(const json& object, const std::string& field, const char* key) const {
    if (!object.is_object()) fail(field, "must be an object");
    const auto it = object.find(key);
    return it == object.end() || it->is_null() ? nullptr : &*it;
  }
  const json& need(const json& object, const std::string& field, const char* key) const {
    const json* value = find(object, field, key);
    if (!value) fail(child(field, key), "is missing");
    return *value;
  }
  std::string string(const json& object, const std::string& field, const char* key) const {
    const json& value = need(object, field, key);
    if (!value.is_string()) fail(child(field, key), "must be a string");
    return value.get<std::string>();
  }
  bool flag(const json& object, const std::string& field, const char* key, bool absent) const {
    const json* value = find(object, field, key);
    if (!value) return absent;
    if (!value->is_boolean()) fail(child(field, key), "must be true or false");
    return value->get<bool>();
  }
  int32_t id(const json& value, const std::string& field) const {
    if (!value.is_number_integer() || value.get<int64_t>() < 0 ||
        value.get<int64_t>() > std::numeric_limits<int32_t>::max()) {
      fail(field, "must be a non-negative 32-bit integer");
    }
    return static_cast<int32_t>(value.get<int64_t>());
  }
  const json& array(const json& object, const std::string& field, const char* key) const {
    const json& value = need(object, field, key);
    if (!value.is_array()) fail(child(field, key), "must be an array");
    return value;
  }

 private:
  std::string path_;
};

// True when the normalizer is NFC; null and empty sequences are no normalizer.
bool read_normalizer(const JsonReader& in, const json& normalizer, const std::string& field) {
  const std::string type = in.string(normalizer, field, "type");
  if (type == "NFC") return true;
  if (type != "Sequence") {
    in.fail(JsonReader::child(field, "type"),
            "is \"" + type + "\"; only NFC and Sequence are supported");
  }
  const std::string list_field = JsonReader::child(field, "normalizers");
  const json& list = in.array(normalizer, field, "normalizers");
  bool nfc = false;
  for (size_t idx = 0; idx < list.size(); ++idx) {
    nfc = read_normalizer(in, list[idx], JsonReader::item(list_field, idx)) || nfc;
  }
  return nfc;
}

std::unique_ptr<RegexSplit> read_split(const JsonReader& in, const json& split,
                                       const std::string& field) {
  const std::string behavior = in.string(split, field, "behavior");
  if (behavior != "Isolated") {
    in.fail(JsonReader::child(field, "behavior"),
            "is \"" + behavior + "\"; only Isolated is supported");
  }
  if (in.flag(split, field, "invert", false)) {
    in.fail(JsonReader::child(field, "invert"), "is true; only false is supported");
  }
  const std::string pattern_field = JsonReader::child(field, "pattern");
  const json& pattern = in.need(split, field, "pattern");
  const bool regex = in.find(pattern, pattern_field, "Regex") != nullptr;
  if (!regex && !in.find(pattern, pattern_field, "String")) {
    in.fail(pattern_field, "must hold \"Regex\" or \"String\"");
  }
  const char* key = regex ? "Regex" : "String";
  const std::string text = in.string(pattern, pattern_field, key);
  try {
    return std::make_unique<RegexSplit>(
        text, regex ? RegexSplit::Syntax::kRegex : RegexSplit::Syntax::kLiteral);
  } catch (const InvalidInput& error) {
    in.fail(JsonReader::child(pattern_field, key), error.what());
  }
}

// Adds the steps of one pre-tokenizer; ByteLevel must come last, because the BPE model reads
// bytes and nothing may split the text after they are mapped.
void read_pre_tokenizer(const JsonReader& in, const json& pre, const std::string& field,
                        PreTokenizer& steps, bool& byte_level_seen) {
  const std::string type = in.string(pre, field, "type");
  if (type == "Sequence") {
    const std::string list_field = JsonReader::child(field, "pretokenizers");
    const json& list = in.array(pre, field, "pretokenizers");
    for (size_t idx = 0; idx < list.size(); ++idx) {
      read_pre_tokenizer(in, list[idx], JsonReader::item(list_field, idx), steps, byte_level_seen);
    }
    return;
  }
  if (byte_level_seen) in.fail(field, "follows ByteLevel, which must be the last pre-tokenizer");
  if (type == "Split") {
    steps.add_split(read_split(in, pre, field));
  } else if (type == "ByteLevel") {
    // Hugging Face's defaults for both flags are true.
    if (in.flag(pre, field, "add_prefix_space", true)) steps.add_prefix_space();
    if (in.flag(pre, field, "use_regex", true)) {
      steps.add_split(std::make_unique<RegexSplit>(kGpt2SplitPattern));
    }
    byte_level_seen = true;
  } else {
    in.fail(JsonReader::child(field, "type"),
            "is \"" + type + "\"; only ByteLevel, Split and Sequence are supported");
  }
}

void reject_model_option(const JsonReader& in, const json& model, const char* key) {
  const json* value = in.find(model, "model", key);
  const bool harmless = !value || (value->is_string() && value->get<std::string>().empty()) ||
                        (value->is_boolean() && !value->get<bool>()) ||
                        (value->is_number() && value->get<double>() == 0.0);
  if (!harmless) in.fail(JsonReader::child("model", key), "is set; headscope does not support it");
}

std::vector<std::pair<std::string, std::string>> read_merges(const JsonReader& in,
                                                             const json& model) {
  const json& list = in.array(model, "model", "merges");
  std::vector<std::pair<std::string, std::string>> merges;
  merges.reserve(list.size());
  for (size_t idx = 0; idx < list.size(); ++idx) {
    const json& merge = list[idx];
    if (merge.is_string()) {
      const std::string& line = merge.get_ref<const std::string&>();
      const size_t space = line.find(' ');
      if (space == 0 || space == std::string::npos || space + 1 == line.size() ||
          line.find(' ', space + 1) != std::string::npos) {
        in.fail(JsonReader::item("model.merges", idx), "must be \"left right\" with one space");
      }
      merges.emplace_back(line.substr(0, space), line.substr(space + 1));
    } else if (merge.is_array() && merge.size() == 2 && merge[0].is_string() &&
               merge[1].is_string()) {
      merges.emplace_back(merge[0].get<std::string>(), merge[1].get<std::string>());
    } else {
      in.fail(JsonReader::item("model.merges", idx),
              "must be a \"left right\" string or a [left, right] pair");
    }
  }
  return merges;
}

void read_model(const JsonReader& in, const json& root, const std::string& path,
                TokenizerState& state) {
  const json& model = in.need(root, "", "model");
  const std::string type = in.string(model, "model", "type");
  if (type != "BPE") in.fail("model.type", "is \"" + type + "\"; only BPE is supported");
  for (const char* key :
       {"byte_fallback", "dropout", "continuing_subword_prefix", "end_of_word_suffix"}) {
    reject_model_option(in, model, key);
  }

  const json& vocab_json = in.need(model, "model", "vocab");
  if (!vocab_json.is_object()) in.fail("model.vocab", "must be an object of piece: id");
  std::unordered_map<std::string, int32_t> vocab;
  vocab.reserve(vocab_json.size());
  for (const auto& [piece, id] : vocab_json.items()) {
    const int32_t value = in.id(id, "model.vocab[\"" + piece + "\"]");
    vocab.emplace(piece, value);
    state.add_piece(piece, value);
  }
  state.bpe = std::make_unique<BpeModel>(
      vocab, read_merges(in, model), in.flag(model, "model", "ignore_merges", false),
      path + ": field \"model.vocab\"", path + ": field \"model.merges\"");
}

void read_added_tokens(const JsonReader& in, const json& root, TokenizerState& state) {
  const json* list = in.find(root, "", "added_tokens");
  if (!list) return;
  if (!list->is_array()) in.fail("added_tokens", "must be an array");
  std::vector<AddedToken> raw;
  std::vector<AddedToken> normalized;
  for (size_t idx = 0; idx < list->size(); ++idx) {
    const json& entry = (*list)[idx];
    const std::string field = JsonReader::item("added_tokens", idx);
    AddedToken token;
    token.content = in.string(entry, field, "content");
    token.id = in.id(in.need(entry, field, "id"), JsonReader::child(field, "id"));
    token.lstrip = in.flag(entry, field, "lstrip", false);
    token.rstrip = in.flag(entry, field, "rstrip", false);
    if (in.flag(entry, field, "single_word", false)) {
      in.fail(JsonReader::child(field, "single_word"), "is true; headscope does not support it");
    }
    state.add_token(token.content, token.id);
    // Normalized tokens are looked for in normalized text, so their content is normalized too.
    const bool special = in.flag(entry, field, "special", false);
    if (in.flag(entry, field, "normalized", !special)) {
      if (state.nfc) token.content = utf8_nfc(token.content);
      normalized.push_back(std::move(token));
    } else {
      raw.push_back(std::move(token));
    }
  }
  state.raw_added = AddedTokenMatcher(std::move(raw));
  state.normalized_added = AddedTokenMatcher(std::move(normalized));
}

}  // namespace

Tokenizer Tokenizer::from_tokenizer_json(const std::string& path) {
  const json root = read_json_file(path);
  const JsonReader in(path);
  if (!root.is_object()) throw InvalidInput(path + ": the top level must be a JSON object");

  auto state = std::make_shared<TokenizerState>();
  read_model(in, root, path, *state);
  if (const json* normalizer = in.find(root, "", "normalizer")) {
    state->nfc = read_normalizer(in, *normalizer, "normalizer");
  }
  bool byte_level_seen = false;
  if (const json* pre = in.find(root, "", "pre_tokenizer")) {
    read_pre_tokenizer(in, *pre, "pre_tokenizer", state->pre_tokenizer, byte_level_seen);
  }
  if (!byte_level_seen)
    in.fail("pre_tokenizer", "has no ByteLevel step; only byte-level BPE is supported");
  const std::string decoder = in.string(in.need(root, "", "decoder"), "decoder", "type");
  if (decoder != "ByteLevel")
    in.fail("decoder.type", "is \"" + decoder + "\"; only ByteLevel is supported");
  read_added_tokens(in, root, *state);
  return Tokenizer(std::move(state));
}

}  // namespace headscope
