#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/base/error.h"
#include "core/checkpoint/model_config.h"
#include "tests/support/fixtures.h"

namespace headscope {
namespace {

using ::testing::HasSubstr;

template <typename E>
void expect_error(const std::string& json, const std::string& needle) {
  try {
    parse_model_config(json, "config.json");
    FAIL() << "expected an error for " << json;
  } catch (const E& e) {
    EXPECT_THAT(e.what(), HasSubstr("config.json"));
    EXPECT_THAT(e.what(), HasSubstr(needle));
  }
}

TEST(ModelConfig, ReadsEveryFixtureFamily) {
  auto neox = load_model_config(test::fixture("hf-tiny/gpt_neox"));
  EXPECT_EQ(neox.family, Family::kGptNeox);
  EXPECT_EQ(neox.rotary_dims(), 4);  // 0.25 * 16
  EXPECT_TRUE(neox.parallel_residual);
  auto qwen3 = load_model_config(test::fixture("hf-tiny/qwen3"));
  EXPECT_EQ(qwen3.d_head, 32);
  EXPECT_TRUE(qwen3.qk_norm);
  EXPECT_TRUE(qwen3.tied_embeddings);
  auto mistral = load_model_config(test::fixture("hf-tiny/mistral"));
  EXPECT_EQ(mistral.n_kv_heads, 1);
  auto gpt2 = load_model_config(test::fixture("hf-tiny/gpt2"));
  EXPECT_EQ(gpt2.d_mlp, 256);
  EXPECT_EQ(gpt2.activation, Activation::kGeluTanh);
}

TEST(ModelConfig, ReadsTransformers4Dialect) {
  auto c = parse_model_config(R"({"model_type":"llama","num_hidden_layers":2,
    "num_attention_heads":4,"hidden_size":64,"intermediate_size":128,"vocab_size":10,
    "rope_theta":500000.0,"rope_scaling":{"rope_type":"llama3","factor":8.0,
    "low_freq_factor":1.0,"high_freq_factor":4.0,"original_max_position_embeddings":8192},
    "torch_dtype":"bfloat16"})",
                              "config.json");
  EXPECT_EQ(c.rope.theta, 500000.0);
  EXPECT_EQ(c.rope.scaling, RopeScaling::kLlama3);
  EXPECT_EQ(c.rope.factor, 8.0);
  EXPECT_EQ(c.dtype, DType::kBF16);
  auto neox = parse_model_config(R"({"model_type":"gpt_neox","num_hidden_layers":1,
    "num_attention_heads":2,"hidden_size":32,"intermediate_size":64,"vocab_size":10,
    "rotary_pct":0.5,"rotary_emb_base":1000})",
                                 "config.json");
  EXPECT_EQ(neox.rope.theta, 1000.0);
  EXPECT_EQ(neox.rotary_dims(), 8);
}

// Keys a config.json may omit take Hugging Face's defaults for the family (kFamilies' columns),
// and keys only some families read are read for those alone.
TEST(ModelConfig, OmittedKeysTakeTheFamilysDefaults) {
  const std::string sizes = R"("num_hidden_layers":1,"num_attention_heads":2,"hidden_size":32,
    "intermediate_size":64,"vocab_size":10)";
  const auto parse = [&](const std::string& type, const std::string& extra) {
    return parse_model_config(R"({"model_type":")" + type + "\"," + sizes + extra + "}",
                              "config.json");
  };
  // GPTNeoXConfig: use_parallel_residual=True, hidden_act="gelu", attention_bias=True (also
  // the output projection's).
  const auto neox = parse("gpt_neox", "");
  EXPECT_TRUE(neox.parallel_residual);
  EXPECT_EQ(neox.activation, Activation::kGeluExact);
  EXPECT_TRUE(neox.qkv_bias);
  EXPECT_TRUE(neox.o_bias);
  EXPECT_FALSE(parse("gpt_neox", R"(,"attention_bias":false)").o_bias);
  // Llama and Qwen3: attention_bias covers o_proj as well as q, k, v; Qwen2's o_proj never has
  // one, Mistral's never.
  EXPECT_TRUE(parse("llama", R"(,"attention_bias":true)").o_bias);
  EXPECT_TRUE(parse("qwen3", R"(,"attention_bias":true)").o_bias);
  EXPECT_FALSE(parse("qwen2", "").o_bias);
  EXPECT_TRUE(parse("qwen2", "").qkv_bias);
  EXPECT_FALSE(parse("mistral", R"(,"attention_bias":true)").o_bias);
  EXPECT_EQ(parse("llama", "").activation, Activation::kSilu);
  // GPT-2 reads activation_function, not hidden_act.
  const std::string gpt2 = R"({"model_type":"gpt2","n_layer":1,"n_head":2,"n_embd":32,
    "vocab_size":10,"hidden_act":"relu")";
  EXPECT_EQ(parse_model_config(gpt2 + "}", "config.json").activation, Activation::kGeluTanh);
  EXPECT_EQ(parse_model_config(gpt2 + R"(,"activation_function":"relu"})", "config.json")
                .activation,
            Activation::kRelu);
  // Only Mistral reads sliding_window; only the Qwens refuse use_sliding_window.
  EXPECT_EQ(parse("mistral", R"(,"sliding_window":16)").sliding_window, 16);
  EXPECT_FALSE(parse("llama", R"(,"sliding_window":16)").sliding_window);
  EXPECT_NO_THROW(parse("llama", R"(,"use_sliding_window":true)"));
  for (const std::string type : {"qwen2", "qwen3"}) {
    expect_error<UnsupportedModel>(R"({"model_type":")" + type + "\"," + sizes +
                                       R"(,"use_sliding_window":true})",
                                   "use_sliding_window=true (per-layer sliding windows) is not "
                                   "supported yet");
  }
}

TEST(ModelConfig, RejectsBadInput) {
  const std::string base = R"("num_hidden_layers":2,"num_attention_heads":4,"hidden_size":64,
    "intermediate_size":128,"vocab_size":10)";
  expect_error<InvalidInput>("{not json", "not valid JSON");
  expect_error<InvalidInput>("[1,2]", "JSON object");
  expect_error<InvalidInput>("{" + base + "}", "model_type");
  expect_error<UnsupportedModel>(R"({"model_type":"bert",)" + base + "}", "bert");
  expect_error<InvalidInput>(R"({"model_type":"llama","num_hidden_layers":-2,
    "num_attention_heads":4,"hidden_size":64,"vocab_size":10})",
                             "num_hidden_layers");
  expect_error<InvalidInput>(R"({"model_type":"llama","num_hidden_layers":"two",
    "num_attention_heads":4,"hidden_size":64,"vocab_size":10})",
                             "num_hidden_layers");
  expect_error<InvalidInput>(R"({"model_type":"llama",)" + base + R"(,"num_key_value_heads":3})",
                             "num_key_value_heads");
  expect_error<UnsupportedModel>(
      R"({"model_type":"llama",)" + base + R"(,"rope_parameters":{"rope_type":"yarn"}})", "yarn");
  expect_error<InvalidInput>(
      R"({"model_type":"llama",)" + base + R"(,"rope_parameters":{"rope_type":"llama3"}})",
      "factor");
  expect_error<InvalidInput>(R"({"model_type":"llama",)" + base + R"(,"dtype":"int8"})", "dtype");
}

TEST(ModelConfig, MissingDirectoryNamesThePath) {
  try {
    load_model_config("/nonexistent/model");
    FAIL();
  } catch (const IoError& e) {
    EXPECT_THAT(e.what(), HasSubstr("/nonexistent/model"));
  }
}

// Every size is range-checked before anything is allocated from it; the message names the file,
// the field and the accepted range.
TEST(ModelConfig, RejectsAbsurdSizesNamingFieldAndRange) {
  const std::map<std::string, std::string> fields = {
      {"num_hidden_layers", "2"}, {"num_attention_heads", "4"}, {"hidden_size", "64"},
      {"intermediate_size", "128"}, {"vocab_size", "10"}, {"max_position_embeddings", "64"},
      {"head_dim", "16"}, {"num_key_value_heads", "2"}};
  const auto config = [&](const std::string& field, const std::string& value) {
    std::string json = R"({"model_type":"llama")";
    for (const auto& [key, fallback] : fields) {
      json += ",\"" + key + "\":" + (key == field ? value : fallback);
    }
    if (!field.empty() && fields.count(field) == 0) json += ",\"" + field + "\":" + value;
    return json + "}";
  };
  ASSERT_NO_THROW(parse_model_config(config("", ""), "config.json"));
  for (const auto& [field, fallback] : fields) {
    for (const std::string value :
         {"9223372036854775807", "18446744073709551615", "1e300", "0", "-1", "2.5", "true",
          "\"4\"", "99999999999999999999"}) {
      SCOPED_TRACE(field + " = " + value);
      expect_error<InvalidInput>(config(field, value), "field '" + field + "' must be an integer in [1, ");
    }
  }
  expect_error<InvalidInput>(config("num_hidden_layers", "9223372036854775807"),
                             "must be an integer in [1, 4096], got 9223372036854775807");
  expect_error<InvalidInput>(config("num_key_value_heads", "8"), "in [1, 4]");
  expect_error<InvalidInput>(config("rms_norm_eps", "-1"), "field 'rms_norm_eps' must be a number in (0, 1)");
}

// A model path that is not a readable directory with a regular config.json ends in one IoError
// naming the path, never in a std::filesystem or stream exception, or a read that never ends.
TEST(ModelConfig, UnreadableModelPathsAreIoErrors) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("headscope_config_paths_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "config_is_dir" / "config.json");
  fs::create_directories(dir / "config_is_dev_zero");
  fs::create_symlink("/dev/zero", dir / "config_is_dev_zero" / "config.json");
  fs::create_symlink(dir / "loop", dir / "loop");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {(dir / "loop").string(), "Too many levels of symbolic links"},
      {(dir / "missing").string(), "No such file or directory"},
      {(dir / "config_is_dir").string(), "is a directory, not a file"},
      {(dir / "config_is_dev_zero").string(), "not a regular file"},
  };
  for (const auto& [path, reason] : cases) {
    SCOPED_TRACE(path);
    try {
      load_model_config(path);
      ADD_FAILURE() << "no error";
    } catch (const IoError& e) {
      EXPECT_THAT(e.what(), HasSubstr(path));
      EXPECT_THAT(e.what(), HasSubstr(reason));
    }
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace headscope
