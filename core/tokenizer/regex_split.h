// A compiled PCRE2 pattern that cuts text into its matches and the gaps between them
// (Hugging Face's Split pre-tokenizer with behavior "Isolated").
#pragma once

#ifndef PCRE2_CODE_UNIT_WIDTH
#define PCRE2_CODE_UNIT_WIDTH 8
#endif
#include <pcre2.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace headscope {

class RegexSplit {
 public:
  enum class Syntax { kRegex, kLiteral };

  // Compiled with UTF and UCP (so \p{L} and case folding are Unicode-aware) and JIT-compiled
  // where PCRE2 supports it; \s and \S are rewritten to Unicode White_Space, as Oniguruma (used by
  // Hugging Face) reads them. Throws InvalidInput with PCRE2's message and the error offset.
  explicit RegexSplit(const std::string& pattern, Syntax syntax = Syntax::kRegex);

  // Appends to `pieces` the matches and the non-empty gaps around them, in order, so that the
  // pieces concatenate back to `text`. `text` must be well-formed UTF-8 (not re-checked here).
  void split(std::string_view text, std::vector<std::string_view>& pieces) const;

 private:
  struct CodeDeleter {
    void operator()(pcre2_code* code) const { pcre2_code_free(code); }
  };
  struct MatchDataDeleter {
    void operator()(pcre2_match_data* data) const { pcre2_match_data_free(data); }
  };

  std::string pattern_;
  std::unique_ptr<pcre2_code, CodeDeleter> code_;
};

}  // namespace headscope
