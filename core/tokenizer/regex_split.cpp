#include "core/tokenizer/regex_split.h"

#include "core/base/error.h"

namespace headscope {
namespace {

std::string pcre2_message(int code) {
  PCRE2_UCHAR buffer[256];
  pcre2_get_error_message(code, buffer, sizeof(buffer));
  return reinterpret_cast<const char*>(buffer);
}

// White space as Oniguruma (Hugging Face's regex engine) and Python's `regex` define it: the
// Unicode White_Space set. PCRE2's \s also takes U+180E, which Unicode 6.3 stopped counting.
constexpr const char* kSpaceItems = R"(\x{09}-\x{0D}\x{85}\p{Z})";

// Rewrites \s and \S so the pattern splits text as the reference engines do. Inside a class, \s
// becomes its items; \S there has no PCRE2 equivalent without U+180E and is kept.
std::string with_reference_white_space(const std::string& pattern) {
  std::string out;
  bool in_class = false;
  for (size_t pos = 0; pos < pattern.size(); ++pos) {
    const char c = pattern[pos];
    if (c == '\\' && pos + 1 < pattern.size()) {
      const char next = pattern[++pos];
      if (next == 's') {
        out += in_class ? std::string(kSpaceItems) : "[" + std::string(kSpaceItems) + "]";
      } else if (next == 'S' && !in_class) {
        out += "[^" + std::string(kSpaceItems) + "]";
      } else {
        out += c;
        out += next;
      }
      continue;
    }
    out += c;
    if (!in_class && c == '[') {
      in_class = true;
      // A ']' right after '[' or '[^' is a literal member, not the end of the class.
      if (pos + 1 < pattern.size() && pattern[pos + 1] == '^') out += pattern[++pos];
      if (pos + 1 < pattern.size() && pattern[pos + 1] == ']') out += pattern[++pos];
    } else if (in_class && c == '[' && pos + 1 < pattern.size() && pattern[pos + 1] == ':') {
      const size_t close = pattern.find(":]", pos + 2);  // POSIX class such as [:alpha:]
      if (close != std::string::npos) {
        out.append(pattern, pos + 1, close + 1 - pos);
        pos = close + 1;
      }
    } else if (in_class && c == ']') {
      in_class = false;
    }
  }
  return out;
}

size_t utf8_char_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if (lead < 0xE0) return 2;
  if (lead < 0xF0) return 3;
  return 4;
}

}  // namespace

RegexSplit::RegexSplit(const std::string& pattern, Syntax syntax) : pattern_(pattern) {
  uint32_t options = PCRE2_UTF | PCRE2_UCP;
  if (syntax == Syntax::kLiteral) options |= PCRE2_LITERAL;
  const std::string compiled =
      syntax == Syntax::kRegex ? with_reference_white_space(pattern) : pattern;
  int error = 0;
  PCRE2_SIZE error_offset = 0;
  code_.reset(pcre2_compile(reinterpret_cast<PCRE2_SPTR>(compiled.data()), compiled.size(), options,
                            &error, &error_offset, nullptr));
  if (!code_) {
    throw InvalidInput("regex /" + pattern + "/ does not compile: " + pcre2_message(error) +
                       " (at offset " + std::to_string(error_offset) + " of /" + compiled + "/)");
  }
  // JIT is several times faster; without it (unsupported CPU) the interpreter gives the same
  // result.
  pcre2_jit_compile(code_.get(), PCRE2_JIT_COMPLETE);
}

void RegexSplit::split(std::string_view text, std::vector<std::string_view>& pieces) const {
  const std::unique_ptr<pcre2_match_data, MatchDataDeleter> match(
      pcre2_match_data_create_from_pattern(code_.get(), nullptr));
  HS_ASSERT(match);
  const auto subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(match.get());
  size_t gap_start = 0;
  size_t search_from = 0;
  while (search_from < text.size()) {
    // The caller validated the text once; PCRE2's own check would rescan it on every call.
    const int rc = pcre2_match(code_.get(), subject, text.size(), search_from, PCRE2_NO_UTF_CHECK,
                               match.get(), nullptr);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) {
      throw InvalidInput("regex /" + pattern_ + "/ failed on the input: " + pcre2_message(rc));
    }
    const size_t start = ovector[0];
    const size_t end = ovector[1];
    if (start > gap_start) pieces.push_back(text.substr(gap_start, start - gap_start));
    if (end > start) {
      pieces.push_back(text.substr(start, end - start));
      gap_start = end;
      search_from = end;
    } else {
      // An empty match cuts nothing; step over one character so the search advances.
      gap_start = start;
      search_from = start + utf8_char_length(static_cast<unsigned char>(text[start]));
    }
  }
  if (gap_start < text.size()) pieces.push_back(text.substr(gap_start));
}

}  // namespace headscope
