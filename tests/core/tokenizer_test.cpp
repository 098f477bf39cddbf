#include "core/tokenizer/tokenizer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <random>

#include "core/base/error.h"
#include "core/tokenizer/byte_level.h"
#include "core/tokenizer/utf8.h"
#include "tests/support/fixtures.h"

namespace headscope {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

constexpr int32_t kQwenEndOfText = 151643;
constexpr int32_t kQwenImStart = 151644;

// The fixtures take a while to parse (Qwen's tokenizer.json is 11 MB), so each loads once.
const Tokenizer& gpt2() {
  static const Tokenizer tokenizer = Tokenizer::load(test::fixture("tokenizers/gpt2"));
  return tokenizer;
}

const Tokenizer& qwen3() {
  static const Tokenizer tokenizer = Tokenizer::load(test::fixture("tokenizers/qwen3"));
  return tokenizer;
}

json reference() {
  std::ifstream file(test::fixture("tokenizers/tokenizer_reference.json"));
  return json::parse(file);
}

void expect_matches_reference(const Tokenizer& tokenizer, const json& cases) {
  ASSERT_FALSE(cases.empty());
  for (const json& item : cases) {
    const std::string text = item["text"];
    const std::vector<int32_t> expected = item["ids"];
    const std::vector<int32_t> ids = tokenizer.encode(text);
    EXPECT_EQ(ids, expected) << "text: " << text;
    EXPECT_EQ(tokenizer.decode(expected), item["decoded"].get<std::string>()) << "text: " << text;
  }
}

TEST(TokenizerReference, Gpt2MatchesOpenAiEncoder) {
  expect_matches_reference(gpt2(), reference()["gpt2"]);
}

TEST(TokenizerReference, Qwen3MatchesHuggingFace) {
  expect_matches_reference(qwen3(), reference()["qwen3"]);
}

// U+180E (Mongolian vowel separator) left White_Space in Unicode 6.3; PCRE2's \s still takes it,
// Oniguruma and Python's regex do not. Ids from an independent encoder.py-style reference.
TEST(TokenizerReference, MongolianVowelSeparatorIsNotWhiteSpace) {
  const std::string text = "x \xE1\xA0\x8E\xE1\xA0\x8E's";
  EXPECT_EQ(gpt2().encode(text), (std::vector<int32_t>{87, 28053, 254, 236, 157, 254, 236, 6, 82}));
  EXPECT_EQ(qwen3().encode(text), (std::vector<int32_t>{87, 86089, 254, 236, 123970, 236, 6, 82}));
}

TEST(TokenizerRoundTrip, TextComesBack) {
  const std::vector<std::string> texts = {
      "emoji \xF0\x9F\xA4\x96\xF0\x9F\x9A\x80 family \xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9",
      "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E \xE4\xB8\xAD\xE6\x96\x87 "
      "\xED\x95\x9C\xEA\xB5\xAD\xEC\x96\xB4",
      "tabs\t\t and\n\n\n  runs   \r\n\r\n      of white space \xE3\x80\x80 \xC2\xA0 ",
      "   ",
      std::string("nul \0 byte", 10),
      "caf\xC3\xA9 na\xC3\xAFve",
  };
  for (const std::string& text : texts) {
    EXPECT_EQ(gpt2().decode(gpt2().encode(text)), text);
    EXPECT_EQ(qwen3().decode(qwen3().encode(text)), text);
  }
}

TEST(TokenizerRoundTrip, Qwen3ComposesCombiningCharacters) {
  const std::string decomposed = "cafe\xCC\x81";  // e + COMBINING ACUTE ACCENT
  const std::string composed = "caf\xC3\xA9";
  EXPECT_EQ(qwen3().encode(decomposed), qwen3().encode(composed));
  EXPECT_EQ(qwen3().decode(qwen3().encode(decomposed)), composed);
  // GPT-2 has no normalizer: the combining mark survives.
  EXPECT_EQ(gpt2().decode(gpt2().encode(decomposed)), decomposed);
  EXPECT_NE(gpt2().encode(decomposed), gpt2().encode(composed));
}

TEST(TokenizerSpecial, EndOfTextIsAddedTokenOnlyForQwen3) {
  EXPECT_EQ(qwen3().encode("<|endoftext|>"), std::vector<int32_t>{kQwenEndOfText});
  const std::vector<int32_t> ids = qwen3().encode("a<|im_start|>user\nhi<|endoftext|>");
  EXPECT_THAT(ids, ::testing::Contains(kQwenImStart));
  EXPECT_EQ(ids.back(), kQwenEndOfText);
  EXPECT_EQ(qwen3().decode(ids), "a<|im_start|>user\nhi<|endoftext|>");

  const std::vector<int32_t> plain = gpt2().encode("<|endoftext|>");
  EXPECT_GT(plain.size(), 1u);
  EXPECT_THAT(plain, ::testing::Not(::testing::Contains(50256)));
  EXPECT_EQ(gpt2().decode(plain), "<|endoftext|>");
}

TEST(TokenizerVocab, PiecesTextsAndIds) {
  EXPECT_EQ(gpt2().vocab_size(), 50257);
  EXPECT_EQ(qwen3().vocab_size(), 151669);

  const std::optional<int32_t> the = gpt2().token_to_id("\xC4\xA0the");  // "Ġthe"
  ASSERT_TRUE(the.has_value());
  EXPECT_EQ(*the, 262);
  EXPECT_EQ(gpt2().token_piece(262), "\xC4\xA0the");
  EXPECT_EQ(gpt2().token_text(262), " the");
  EXPECT_FALSE(gpt2().token_to_id("no such piece").has_value());

  EXPECT_EQ(qwen3().token_to_id("<|endoftext|>"), kQwenEndOfText);
  EXPECT_EQ(qwen3().token_piece(kQwenEndOfText), "<|endoftext|>");
  EXPECT_EQ(qwen3().token_text(kQwenEndOfText), "<|endoftext|>");

  // GPT-2 spells "日" as two tokens; each holds part of the character's three bytes.
  const std::vector<int32_t> sun = gpt2().encode("\xE6\x97\xA5");
  ASSERT_EQ(sun.size(), 2u);
  EXPECT_EQ(gpt2().token_text(sun[0]) + gpt2().token_text(sun[1]), "\xE6\x97\xA5");
  EXPECT_EQ(gpt2().decode({sun[0]}), "\xEF\xBF\xBD");  // one U+FFFD for the cut character
}

TEST(TokenizerLoad, EachPathKind) {
  const std::vector<int32_t> hello_gpt2 = {15496, 995};
  EXPECT_EQ(Tokenizer::load(test::fixture("tokenizers/qwen3/tokenizer.json")).encode("Hello world"),
            qwen3().encode("Hello world"));
  EXPECT_EQ(Tokenizer::load(test::fixture("tokenizers/gpt2")).encode("Hello world"), hello_gpt2);
  EXPECT_EQ(Tokenizer::from_gpt2_files(test::fixture("tokenizers/gpt2/encoder.json"),
                                       test::fixture("tokenizers/gpt2/vocab.bpe"))
                .encode("Hello world"),
            hello_gpt2);
}

// A scratch directory per test, removed afterwards.
class TokenizerErrors : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("headscope_tokenizer_" + std::string(info->name()) + "_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& contents) const {
    const fs::path path = dir_ / name;
    std::ofstream(path, std::ios::binary) << contents;
    return path.string();
  }

  // A small valid tokenizer.json: the 256 byte tokens, "ab" and "abc", and one added token.
  static json tiny() {
    json vocab = json::object();
    for (int byte = 0; byte < 256; ++byte) {
      vocab[byte_level_piece(std::string(1, static_cast<char>(byte)))] = byte;
    }
    vocab["ab"] = 256;
    vocab["abc"] = 257;
    return {
        {"added_tokens", json::array({json{{"id", 258},
                                           {"content", "<sep>"},
                                           {"special", true},
                                           {"normalized", false},
                                           {"lstrip", true},
                                           {"rstrip", false},
                                           {"single_word", false}}})},
        {"normalizer", nullptr},
        {"pre_tokenizer",
         {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}},
        {"decoder", {{"type", "ByteLevel"}}},
        {"model",
         {{"type", "BPE"},
          {"vocab", vocab},
          {"merges", json::array({json("a b"), json::array({"ab", "c"})})}}},
    };
  }

  fs::path dir_;
};

TEST_F(TokenizerErrors, TinyTokenizerLoads) {
  const Tokenizer tokenizer =
      Tokenizer::from_tokenizer_json(write("tokenizer.json", tiny().dump()));
  EXPECT_EQ(tokenizer.vocab_size(), 259);
  EXPECT_EQ(tokenizer.encode("abcab"), (std::vector<int32_t>{257, 256}));
  // lstrip: the token takes the spaces before it.
  EXPECT_EQ(tokenizer.encode("c  <sep>c"), (std::vector<int32_t>{'c', 258, 'c'}));
  EXPECT_EQ(Tokenizer::load(dir_.string()).encode("ab"), std::vector<int32_t>{256});
}

TEST_F(TokenizerErrors, MissingFileNamesPath) {
  const std::string missing = (dir_ / "missing.json").string();
  EXPECT_THAT([&] { Tokenizer::from_tokenizer_json(missing); },
              ::testing::ThrowsMessage<IoError>(HasSubstr(missing)));
  EXPECT_THAT([&] { Tokenizer::load(missing); },
              ::testing::ThrowsMessage<IoError>(HasSubstr(missing)));
  // A directory without tokenizer files.
  EXPECT_THAT([&] { Tokenizer::load(dir_.string()); },
              ::testing::ThrowsMessage<IoError>(HasSubstr(dir_.string())));
}

TEST_F(TokenizerErrors, MalformedJsonNamesFile) {
  const std::string path = write("tokenizer.json", "{\"model\": ");
  EXPECT_THAT([&] { Tokenizer::from_tokenizer_json(path); },
              ::testing::ThrowsMessage<InvalidInput>(
                  ::testing::AllOf(HasSubstr(path), HasSubstr("not valid JSON"))));
}

// Each edit of the tiny tokenizer must fail naming the file and the field.
TEST_F(TokenizerErrors, BadFieldsAreNamed) {
  struct Case {
    const char* field;
    std::function<void(json&)> edit;
  };
  const std::vector<Case> cases = {
      {"model", [](json& j) { j.erase("model"); }},
      {"model.type", [](json& j) { j["model"]["type"] = "WordPiece"; }},
      {"model.merges[1]", [](json& j) { j["model"]["merges"][1] = "abc"; }},
      {"model.merges[0]", [](json& j) { j["model"]["merges"][0] = json::array({"a"}); }},
      {"model.merges\", merge 0", [](json& j) { j["model"]["merges"][0] = "a zz"; }},
      {"model.byte_fallback", [](json& j) { j["model"]["byte_fallback"] = true; }},
      {"model.vocab", [](json& j) { j["model"]["vocab"]["ab"] = "256"; }},
      {"normalizer.type",
       [](json& j) {
         j["normalizer"] = {{"type", "Lowercase"}};
       }},
      {"normalizer.normalizers[1].type",
       [](json& j) {
         j["normalizer"] = {
             {"type", "Sequence"},
             {"normalizers", json::array({json{{"type", "NFC"}}, json{{"type", "NFKC"}}})}};
       }},
      {"pre_tokenizer.type",
       [](json& j) {
         j["pre_tokenizer"] = {{"type", "Whitespace"}};
       }},
      {"pre_tokenizer.behavior",
       [](json& j) {
         j["pre_tokenizer"] = {
             {"type", "Split"}, {"pattern", {{"Regex", "a"}}}, {"behavior", "Removed"}};
       }},
      {"pre_tokenizer.pretokenizers[0].pattern.Regex",
       [](json& j) {
         j["pre_tokenizer"] = {
             {"type", "Sequence"},
             {"pretokenizers", json::array({json{{"type", "Split"},
                                                 {"pattern", {{"Regex", "(unclosed"}}},
                                                 {"behavior", "Isolated"}},
                                            json{{"type", "ByteLevel"}, {"use_regex", false}}})}};
       }},
      {"pre_tokenizer", [](json& j) { j["pre_tokenizer"] = nullptr; }},
      {"decoder.type",
       [](json& j) {
         j["decoder"] = {{"type", "WordPiece"}};
       }},
      {"added_tokens[0].single_word", [](json& j) { j["added_tokens"][0]["single_word"] = true; }},
  };
  for (const Case& item : cases) {
    json tokenizer = tiny();
    item.edit(tokenizer);
    const std::string path = write("tokenizer.json", tokenizer.dump());
    try {
      Tokenizer::from_tokenizer_json(path);
      ADD_FAILURE() << "no error for " << item.field;
    } catch (const InvalidInput& error) {
      EXPECT_THAT(error.what(), HasSubstr(path)) << item.field;
      EXPECT_THAT(error.what(), HasSubstr(std::string("\"") + item.field)) << item.field;
    }
  }
}

TEST(TokenizerDecode, OutOfRangeIdNamesIdAndVocabSize) {
  EXPECT_THAT(
      [] {
        qwen3().decode({1, 999999});
      },
      ::testing::ThrowsMessage<InvalidInput>(
          ::testing::AllOf(HasSubstr("999999"), HasSubstr("151669"))));
  EXPECT_THAT([] { gpt2().decode({-1}); }, ::testing::ThrowsMessage<InvalidInput>(::testing::AllOf(
                                               HasSubstr("-1"), HasSubstr("50257"))));
  EXPECT_THROW(gpt2().token_piece(50257), InvalidInput);
}

// Random bytes never crash the encoder: well-formed UTF-8 encodes and decodes back (NFC for
// Qwen3), anything else is refused with InvalidInput naming the offset.
TEST(TokenizerRobustness, RandomBytes) {
  std::mt19937 rng(1234);
  // Bytes that make UTF-8 likely to be well formed half of the time: ASCII, leads, continuations.
  const std::string alphabet =
      "ab1 \n'\xC3\xA9\xE6\x97\xA5\xF0\x9F\xA4\x96\x80\xBF\xC0\xFF\xED\xA0";
  int valid = 0;
  int invalid = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    std::string text(rng() % 24, '\0');
    for (char& c : text) {
      c = (rng() % 4 == 0) ? static_cast<char>(rng() % 256) : alphabet[rng() % alphabet.size()];
    }
    const bool well_formed = !utf8_invalid_offset(text).has_value();
    for (const Tokenizer* tokenizer : {&gpt2(), &qwen3()}) {
      try {
        const std::vector<int32_t> ids = tokenizer->encode(text);
        ASSERT_TRUE(well_formed);
        const std::string expected = tokenizer == &qwen3() ? utf8_nfc(text) : text;
        ASSERT_EQ(tokenizer->decode(ids), expected);
      } catch (const InvalidInput& error) {
        ASSERT_FALSE(well_formed) << error.what();
        EXPECT_THAT(error.what(), HasSubstr("byte offset"));
      }
    }
    well_formed ? ++valid : ++invalid;
  }
  EXPECT_GT(valid, 100);
  EXPECT_GT(invalid, 100);
}

TEST(TokenizerRobustness, LongRunsDoNotExhaustTheRegexStack) {
  for (const char* unit : {" ", "a", "7", "\n", "!", "\xE6\x97\xA5"}) {
    std::string text;
    for (int i = 0; i < 200000; ++i) text += unit;
    EXPECT_EQ(gpt2().decode(gpt2().encode(text)), text);
    EXPECT_EQ(qwen3().decode(qwen3().encode(text)), text);
  }
}

// 1 MB of mixed text; the bound is loose so a loaded machine does not fail it, but an accidental
// quadratic step (regex rescans, merge loop) would.
TEST(TokenizerSpeed, EncodesOneMegabyte) {
  std::string text;
  const json cases = reference()["gpt2"];
  for (int round = 0; text.size() < (1u << 20); ++round) {
    for (const json& item : cases)
      text += item["text"].get<std::string>() + " " + std::to_string(round) + "\n";
  }
  for (const Tokenizer* tokenizer : {&gpt2(), &qwen3()}) {
    const auto start = std::chrono::steady_clock::now();
    const size_t count = tokenizer->encode(text).size();
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("[ speed    ] %s: %zu tokens, %.1f MB/s\n", tokenizer == &gpt2() ? "gpt2" : "qwen3",
                count, text.size() / 1e6 / seconds);
    EXPECT_LT(seconds, 5.0);
  }
}

}  // namespace
}  // namespace headscope
