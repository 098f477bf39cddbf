#include "analyses/circuits/patching_dataset.h"

#include <nlohmann/json.hpp>

#include "core/base/error.h"
#include "core/base/json_file.h"

namespace headscope {
namespace {

using nlohmann::json;

// Reads the fields of one record; `where` is "FILE:LINE".
class RecordReader {
 public:
  RecordReader(const json& record, std::string where, const ModelConfig& config,
               const Tokenizer* tokenizer)
      : record_(record), where_(std::move(where)), config_(config), tokenizer_(tokenizer) {}

  [[noreturn]] void fail(const std::string& field, const std::string& what) const {
    throw InvalidInput(where_ + ": " + (field.empty() ? "" : field + ": ") + what);
  }

  const json* find(const std::string& field) const {
    const auto it = record_.find(field);
    return it == record_.end() || it->is_null() ? nullptr : &*it;
  }

  std::vector<int32_t> sequence(const std::string& field) const {
    const json* value = find(field);
    if (value == nullptr) fail(field, "missing; expected a text or a list of token ids");
    std::vector<int32_t> ids;
    if (value->is_string()) {
      ids = encode(field, value->get<std::string>());
    } else if (value->is_array()) {
      for (size_t i = 0; i < value->size(); ++i) {
        ids.push_back(token_id(field + "[" + std::to_string(i) + "]", (*value)[i]));
      }
    } else {
      fail(field, std::string("expected a text or a list of token ids, got ") + value->type_name());
    }
    if (ids.empty()) fail(field, "empty; expected at least one token");
    return ids;
  }

  // -1 when the field is absent and optional.
  int32_t single_token(const std::string& field, bool required) const {
    const json* value = find(field);
    if (value == nullptr) {
      if (required) fail(field, "missing; expected the text of one token or a token id");
      return -1;
    }
    if (value->is_string()) {
      const std::vector<int32_t> ids = encode(field, value->get<std::string>());
      if (ids.size() != 1) {
        fail(field, "\"" + value->get<std::string>() + "\" is " + std::to_string(ids.size()) +
                        " tokens; expected the text of exactly one token (mind the leading "
                        "space) or a token id");
      }
      return ids.front();
    }
    if (value->is_number_integer()) return token_id(field, *value);
    fail(field,
         std::string("expected the text of one token or a token id, got ") + value->type_name());
  }

 private:
  std::vector<int32_t> encode(const std::string& field, const std::string& text) const {
    if (tokenizer_ == nullptr) {
      fail(field,
           "a text needs the model's tokenizer (tokenizer.json in the model directory, "
           "which this model lacks); give token ids instead");
    }
    std::vector<int32_t> ids;
    try {
      ids = tokenizer_->encode(text);
    } catch (const InvalidInput& e) {
      fail(field, e.what());
    }
    for (const int32_t id : ids) check_id(field, id);
    return ids;
  }

  int32_t token_id(const std::string& field, const json& value) const {
    if (!value.is_number_integer()) {
      fail(field, std::string("expected an integer token id, got ") + value.type_name());
    }
    const auto id = value.get<int64_t>();
    check_id(field, id);
    return static_cast<int32_t>(id);
  }

  void check_id(const std::string& field, int64_t id) const {
    if (id < 0 || id >= config_.vocab_size) {
      fail(field, "token id " + std::to_string(id) + " is outside the model's vocabulary [0, " +
                      std::to_string(config_.vocab_size) + ")");
    }
  }

  const json& record_;
  std::string where_;
  const ModelConfig& config_;
  const Tokenizer* tokenizer_;
};

// One line's object, its fields already among clean, corrupted, answer and distractor
// (read_json_lines).
PatchingPair read_record(const json& record, const std::string& where, const ModelConfig& config,
                         const Tokenizer* tokenizer) {
  const RecordReader reader(record, where, config, tokenizer);
  PatchingPair pair;
  pair.clean = reader.sequence("clean");
  pair.corrupted = reader.sequence("corrupted");
  if (pair.clean.size() != pair.corrupted.size()) {
    reader.fail("corrupted", std::to_string(pair.corrupted.size()) +
                                 " tokens; expected as many "
                                 "as clean's " +
                                 std::to_string(pair.clean.size()));
  }
  if (static_cast<int64_t>(pair.clean.size()) > config.max_positions) {
    reader.fail("clean", std::to_string(pair.clean.size()) +
                             " tokens; expected at most the "
                             "model's " +
                             std::to_string(config.max_positions) + " positions");
  }
  pair.answer = reader.single_token("answer", true);
  pair.distractor = reader.single_token("distractor", false);
  pair.position = static_cast<int64_t>(pair.clean.size()) - 1;
  pair.source = where;
  return pair;
}

}  // namespace

std::vector<PatchingPair> read_patching_dataset(const std::string& path, const ModelConfig& config,
                                                const Tokenizer* tokenizer) {
  std::vector<PatchingPair> pairs;
  read_json_lines(path, "--dataset", {"clean", "corrupted", "answer", "distractor"},
                  [&](const json& record, const std::string& where) {
                    pairs.push_back(read_record(record, where, config, tokenizer));
                  });
  return pairs;
}

}  // namespace headscope
