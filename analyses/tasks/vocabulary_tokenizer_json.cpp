// Vocabulary::write_tokenizer_json: the vocabulary as a GPT-2 style tokenizer.json.
#include <fstream>

#include <nlohmann/json.hpp>

#include "analyses/tasks/vocabulary.h"
#include "core/base/error.h"
#include "core/tokenizer/byte_level.h"

namespace headscope {

void Vocabulary::write_tokenizer_json(const std::string& path) const {
  using nlohmann::json;
  // Byte-level spelling of each token: word pieces carry their leading space ("Ġthe").
  std::vector<std::string> pieces(texts_.size());
  for (int32_t token = 0; token < size(); ++token) {
    if (token < kBos) {
      pieces[token] = byte_level_piece(texts_[token]);
    } else if (token <= kPad) {
      pieces[token] = texts_[token];
    } else {
      pieces[token] = byte_level_piece(" " + texts_[token]);
    }
  }
  json vocab = json::object();
  for (int32_t token = 0; token < size(); ++token) vocab[pieces[token]] = token;
  json merges = json::array();
  for (const auto& [left, right] : merges_) merges.push_back(pieces[left] + " " + pieces[right]);
  json added = json::array();
  for (const int32_t token : {kBos, kEos, kPad}) {
    added.push_back({{"id", token},
                     {"content", texts_[token]},
                     {"single_word", false},
                     {"lstrip", false},
                     {"rstrip", false},
                     {"normalized", false},
                     {"special", true}});
  }
  const json byte_level = {{"type", "ByteLevel"},
                           {"add_prefix_space", false},
                           {"trim_offsets", true},
                           {"use_regex", true}};
  const json root = {{"version", "1.0"},
                     {"truncation", nullptr},
                     {"padding", nullptr},
                     {"added_tokens", added},
                     {"normalizer", nullptr},
                     {"pre_tokenizer", byte_level},
                     {"post_processor", nullptr},
                     {"decoder", byte_level},
                     {"model",
                      {{"type", "BPE"},
                       {"dropout", nullptr},
                       {"unk_token", nullptr},
                       {"continuing_subword_prefix", nullptr},
                       {"end_of_word_suffix", nullptr},
                       {"fuse_unk", false},
                       {"byte_fallback", false},
                       {"ignore_merges", false},
                       {"vocab", vocab},
                       {"merges", merges}}}};
  std::ofstream out(path, std::ios::binary);
  out << root.dump(1) << '\n';
  if (!out) throw IoError("Vocabulary::write_tokenizer_json: cannot write " + path);
}

}  // namespace headscope
