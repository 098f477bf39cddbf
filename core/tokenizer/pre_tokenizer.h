// The pre-tokenizer chain of a byte-level BPE tokenizer: steps that cut text into words, each of
// which BPE then encodes on its own.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/tokenizer/regex_split.h"

namespace headscope {

// The regex of GPT-2's encoder.py, also used by Hugging Face's ByteLevel pre-tokenizer.
inline constexpr const char* kGpt2SplitPattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

class PreTokenizer {
 public:
  // Prepends a space to every current piece that does not start with one (ByteLevel's
  // add_prefix_space), so a first word is spelled like one after a space.
  void add_prefix_space();
  // Cuts every current piece into regex matches and the gaps between them.
  void add_split(std::unique_ptr<RegexSplit> split);

  // Calls emit for each word of `text`, in order; `text` must be well-formed UTF-8.
  void split(std::string_view text, const std::function<void(std::string_view)>& emit) const;

 private:
  void run(size_t step, std::string_view piece,
           const std::function<void(std::string_view)>& emit) const;

  // A null split is a prefix-space step.
  std::vector<std::unique_ptr<RegexSplit>> steps_;
};

}  // namespace headscope
