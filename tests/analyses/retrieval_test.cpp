// Retrieval-head detection: ROUGE, needles, prompts, the copy-paste score, and the decoding
// trace checked against an independent computation from full hook_pattern maps.
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <memory>
#include <set>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "analyses/retrieval/needles.h"
#include "analyses/retrieval/niah_prompt.h"
#include "analyses/retrieval/retrieval_file.h"
#include "analyses/retrieval/retrieval_heads.h"
#include "analyses/retrieval/rouge.h"
#include "analyses/tasks/vocabulary.h"
#include "core/base/error.h"
#include "core/model/hook_sink.h"
#include "core/store/recording_writer.h"
#include "hooks/activation_recorder.h"
#include "tests/support/error_message.h"
#include "tests/support/shell.h"
#include "tests/support/temp_dir_test.h"
#include "tests/support/tolerance.h"

namespace headscope {
namespace {

using test::error_message;

const Tokenizer& zoo_tokenizer() {
  static const Tokenizer tokenizer = [] {
    const std::string path = ::testing::TempDir() + "/retrieval_zoo_tokenizer.json";
    Vocabulary::builtin().write_tokenizer_json(path);
    return Tokenizer::load(path);
  }();
  return tokenizer;
}

ModelConfig base_config(int64_t layers, int64_t heads, int64_t kv_heads, int64_t d_model,
                        int64_t d_head) {
  ModelConfig c;
  c.n_layers = layers;
  c.n_heads = heads;
  c.n_kv_heads = kv_heads;
  c.d_model = d_model;
  c.d_head = d_head;
  c.d_mlp = 8;
  c.vocab_size = Vocabulary::builtin().size();
  c.max_positions = 256;
  c.tied_embeddings = true;
  return c;
}

// A GPT-2-shaped model that copies by construction: random embeddings (tied), identity query and
// key projections, no position embedding and no attention or MLP output. Its greedy next token is
// the input token (a vector's largest dot product is with itself, by a wide margin in 64
// dimensions), and every head's top key is the first position holding the query's token (equal
// scores: the lowest index wins).
std::shared_ptr<Transformer> copy_model() {
  const int64_t d = 64, heads = 2;
  ModelConfig c = base_config(2, heads, heads, d, d);
  c.family = Family::kGpt2;
  c.model_type = "gpt2";
  c.norm = NormKind::kLayerNorm;
  c.activation = Activation::kGeluTanh;
  c.gated_mlp = false;
  c.learned_positions = true;
  torch::manual_seed(3);
  ModelWeights w;
  w.embed = torch::randn({c.vocab_size, d});
  w.unembed = w.embed;
  // Equal tokens give equal q and k, so every copy of a token would tie exactly, and which copy
  // wins would depend on the BLAS's rounding. A small position term along u, read by a query
  // bias along u, makes the earliest copy win by a clear margin (0.02 per position) without
  // changing which token a head prefers.
  auto u = torch::randn({d});
  u = u - u.mean();
  u = u / u.norm();
  w.pos_embed = -0.005 * torch::arange(c.max_positions, torch::kFloat32).unsqueeze(1) * u;
  w.final_norm_w = torch::ones({d});
  w.final_norm_b = torch::zeros({d});
  for (int64_t layer = 0; layer < c.n_layers; ++layer) {
    LayerWeights l;
    l.ln1_w = torch::ones({d});
    l.ln1_b = torch::zeros({d});
    l.ln2_w = torch::ones({d});
    l.ln2_b = torch::zeros({d});
    l.wq = torch::eye(d).repeat({heads, 1});
    l.bq = 4.0 * u.repeat({heads});
    l.wk = l.wq.clone();
    l.wv = l.wq.clone();
    l.wo = torch::zeros({d, heads * d});
    l.w_up = torch::zeros({c.d_mlp, d});
    l.w_down = torch::zeros({d, c.d_mlp});
    w.layers.push_back(std::move(l));
  }
  return Transformer::from_weights(c, std::move(w));
}

// A random Llama-shaped model with grouped-query attention and rotary positions.
std::shared_ptr<Transformer> random_llama() {
  ModelConfig c = base_config(2, 4, 2, 32, 8);
  torch::manual_seed(7);
  const int64_t d = c.d_model;
  auto normal = [](std::vector<int64_t> shape) { return torch::randn(shape) * 0.5; };
  ModelWeights w;
  w.embed = normal({c.vocab_size, d});
  w.unembed = w.embed;
  w.final_norm_w = torch::ones({d});
  for (int64_t layer = 0; layer < c.n_layers; ++layer) {
    LayerWeights l;
    l.ln1_w = torch::ones({d});
    l.ln2_w = torch::ones({d});
    l.wq = normal({c.n_heads * c.d_head, d});
    l.wk = normal({c.n_kv_heads * c.d_head, d});
    l.wv = normal({c.n_kv_heads * c.d_head, d});
    l.wo = normal({d, c.n_heads * c.d_head});
    l.w_gate = normal({c.d_mlp, d});
    l.w_up = normal({c.d_mlp, d});
    l.w_down = normal({d, c.d_mlp});
    w.layers.push_back(std::move(l));
  }
  return Transformer::from_weights(c, std::move(w));
}

// Every layer's full attention map of one forward pass (this makes the model materialise it).
class PatternCapture : public HookSink {
 public:
  explicit PatternCapture(const Transformer& model)
      : patterns_(static_cast<size_t>(model.config().n_layers)) {}
  bool active(HookPoint point) const override { return point.kind == HookKind::kPattern; }
  torch::Tensor fire(HookPoint point, torch::Tensor value) override {
    patterns_[static_cast<size_t>(point.layer)] = value;
    return value;
  }
  const torch::Tensor& pattern(size_t layer) const { return patterns_[layer]; }

 private:
  std::vector<torch::Tensor> patterns_;  // [1, H, T, T]
};

// The reference: one full forward pass over prompt + generated tokens, the top key of each
// decoding step's row in every hook_pattern, and the score counted event by event.
struct Reference {
  std::vector<std::vector<std::vector<int64_t>>> top;  // [step][layer][head]
  std::vector<std::vector<double>> score;              // [layer][head]
};

Reference reference_from_patterns(const Transformer& model, const RetrievalSample& sample,
                                  RetrievalSemantics semantics) {
  std::vector<int64_t> sequence(sample.prompt.begin(), sample.prompt.end());
  sequence.insert(sequence.end(), sample.generated.begin(), sample.generated.end() - 1);
  PatternCapture capture(model);
  torch::NoGradGuard no_grad;
  model.forward(torch::tensor(sequence).unsqueeze(0), &capture);
  const ModelConfig& c = model.config();
  const auto prompt_length = static_cast<int64_t>(sample.prompt.size());
  const double span = static_cast<double>(sample.answer_end - sample.answer_begin);
  Reference ref;
  ref.score.assign(c.n_layers, std::vector<double>(c.n_heads, 0.0));
  std::vector<std::vector<std::set<int64_t>>> copied(c.n_layers,
                                                     std::vector<std::set<int64_t>>(c.n_heads));
  for (size_t step = 0; step < sample.generated.size(); ++step) {
    const int64_t query = prompt_length - 1 + static_cast<int64_t>(step);
    ref.top.emplace_back();
    for (int64_t layer = 0; layer < c.n_layers; ++layer) {
      ref.top.back().emplace_back();
      for (int64_t head = 0; head < c.n_heads; ++head) {
        auto row = capture.pattern(layer)[0][head][query];
        int64_t best = 0;
        for (int64_t key = 1; key <= query; ++key) {
          if (row[key].item<float>() > row[best].item<float>()) best = key;
        }
        ref.top.back().back().push_back(best);
        if (best >= sample.answer_begin && best < sample.answer_end &&
            sample.prompt[best] == sample.generated[step]) {
          ref.score[layer][head] += 1.0 / span;
          copied[layer][head].insert(best);
        }
      }
    }
  }
  if (semantics == RetrievalSemantics::kSet) {
    for (int64_t layer = 0; layer < c.n_layers; ++layer) {
      for (int64_t head = 0; head < c.n_heads; ++head) {
        ref.score[layer][head] = static_cast<double>(copied[layer][head].size()) / span;
      }
    }
  }
  return ref;
}

void expect_matches_reference(const Transformer& model, const RetrievalSample& sample,
                              RetrievalSemantics semantics) {
  const Reference ref = reference_from_patterns(model, sample, semantics);
  const ModelConfig& c = model.config();
  ASSERT_EQ(sample.argmax.size(0), static_cast<int64_t>(sample.generated.size()));
  for (size_t step = 0; step < ref.top.size(); ++step) {
    for (int64_t layer = 0; layer < c.n_layers; ++layer) {
      for (int64_t head = 0; head < c.n_heads; ++head) {
        EXPECT_EQ(sample.argmax[step][layer][head].item<int64_t>(), ref.top[step][layer][head])
            << "step " << step << " layer " << layer << " head " << head;
      }
    }
  }
  for (int64_t layer = 0; layer < c.n_layers; ++layer) {
    for (int64_t head = 0; head < c.n_heads; ++head) {
      EXPECT_EQ(sample.score[layer][head].item<double>(), ref.score[layer][head])
          << "layer " << layer << " head " << head;
    }
  }
}

Needle copy_needle() {
  return {"the special number of maria is one : two .", "what is the special number of maria ?",
          "one : two", "test needle"};
}

RetrievalOptions small_options(const Transformer& model) {
  return RetrievalOptions::for_model(model.config())
      .with_bos(Vocabulary::builtin().bos())
      .with_lengths({48})
      .with_depths({0.5})
      .with_max_new_tokens(6);
}

TEST(RetrievalRouge, CountsReferenceWordsFoundClipped) {
  EXPECT_DOUBLE_EQ(rouge1_recall("four seven one nine", " four seven one nine ."), 1.0);
  EXPECT_DOUBLE_EQ(rouge1_recall("four seven one nine", "four seven"), 0.5);
  EXPECT_DOUBLE_EQ(rouge1_recall("Dolores Park, sunny day", "dolores park!"), 0.5);
  // Counts are clipped: one "one" in the candidate matches one of the two in the reference.
  EXPECT_DOUBLE_EQ(rouge1_recall("one one two", "one two"), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(rouge1_recall("", "anything"), 0.0);
  EXPECT_EQ(rouge_words("It's 42-nd\nStreet"),
            (std::vector<std::string>{"it", "s", "42", "nd", "street"}));
}

class RetrievalFiles : public test::TempDirTest {
 protected:
  std::string write(const std::string& name, const std::string& text) {
    std::ofstream(path(name)) << text;
    return path(name);
  }
};

TEST_F(RetrievalFiles, LoadsNeedlesJsonl) {
  const std::string file =
      write("n.jsonl",
            "{\"needle\": \"the key is red .\", \"question\": \"what is the key ?\", "
            "\"answer\": \"red\"}\n\n"
            "{\"needle\": \"Mr Green likes tea.\", \"question\": \"q\", \"real_needle\": "
            "\"likes tea\"}\n");
  const std::vector<Needle> needles = load_needles_jsonl(file);
  ASSERT_EQ(needles.size(), 2u);
  EXPECT_EQ(needles[0].answer, "red");
  EXPECT_EQ(needles[1].answer, "likes tea");
  EXPECT_EQ(needles[1].source, file + ":3");
}

TEST_F(RetrievalFiles, RejectsBadNeedlesNamingFileAndLine) {
  const std::string bad_json =
      write("bad.jsonl", "{\"needle\": \"a b\", \"question\": \"q\", \"answer\": \"b\"}\n{oops\n");
  EXPECT_NE(error_message<InvalidInput>([&] {
              load_needles_jsonl(bad_json);
            }).find(bad_json + ":2: not valid JSON"),
            std::string::npos);
  const std::string missing = write("missing.jsonl", "{\"needle\": \"a b\", \"answer\": \"b\"}\n");
  EXPECT_NE(error_message<InvalidInput>([&] {
              load_needles_jsonl(missing);
            }).find(missing + ":1: missing field 'question'"),
            std::string::npos);
  const std::string not_string =
      write("type.jsonl", "{\"needle\": 3, \"question\": \"q\", \"answer\": \"b\"}\n");
  EXPECT_NE(error_message<InvalidInput>([&] {
              load_needles_jsonl(not_string);
            }).find("field 'needle' must be a string"),
            std::string::npos);
  const std::string absent =
      write("absent.jsonl", "{\"needle\": \"a b\", \"question\": \"q\", \"answer\": \"c\"}\n");
  EXPECT_NE(error_message<InvalidInput>([&] {
              load_needles_jsonl(absent);
            }).find("does not occur in the needle"),
            std::string::npos);
  const std::string empty = write("empty.jsonl", "\n\n");
  EXPECT_NE(error_message<InvalidInput>([&] { load_needles_jsonl(empty); })
                .find(empty + ": no records; expected one JSON object per line with needle, "
                              "question and answer"),
            std::string::npos);
  EXPECT_NE(
      error_message<IoError>([&] { load_needles_jsonl(path("none.jsonl")); }).find("none.jsonl"),
      std::string::npos);
  EXPECT_NE(error_message<InvalidInput>([&] {
              load_haystack_text(write("h.txt", " \n"));
            }).find("holds no text"),
            std::string::npos);
}

TEST(RetrievalNeedles, BuiltinNeedlesUseOnlyZooWords) {
  const Vocabulary& vocab = Vocabulary::builtin();
  for (const Needle& needle : builtin_needles()) {
    check_needle(needle);
    for (const std::string* text : {&needle.needle, &needle.question}) {
      std::istringstream words(*text);
      std::string word;
      while (words >> word) EXPECT_NO_THROW(vocab.id(word)) << needle.source << ": " << word;
    }
  }
}

TEST(RetrievalPrompt, PlacesNeedleAtSentenceStartWithExactAnswerSpan) {
  const Tokenizer& tokenizer = zoo_tokenizer();
  const Vocabulary& vocab = Vocabulary::builtin();
  const Needle& needle = builtin_needles()[0];
  const TokenizedNeedle tokens =
      tokenize_needle(tokenizer, needle, " \n question : {question} answer :");
  const std::vector<int32_t> haystack =
      haystack_tokens(tokenizer, filler_haystack_text(200, 3), 200);
  for (const double depth : {0.0, 0.3, 0.7, 1.0}) {
    const NiahPrompt prompt =
        build_niah_prompt(tokenizer, tokens, haystack, 120, depth, vocab.bos());
    ASSERT_EQ(prompt.tokens.size(), 120u);
    EXPECT_EQ(prompt.tokens[0], vocab.bos());
    const std::vector<int32_t> answer(prompt.tokens.begin() + prompt.answer_begin,
                                      prompt.tokens.begin() + prompt.answer_end);
    EXPECT_EQ(answer, vocab.encode_words({"four", "seven", "one", "nine"}));
    // The needle starts a sentence: after the bos or after a "." / "\n" of the haystack.
    const int32_t before = prompt.tokens[prompt.needle_begin - 1];
    EXPECT_TRUE(before == vocab.bos() || before == vocab.id(".") || before == vocab.id("\n"))
        << vocab.word(before);
    const std::vector<int32_t> tail(prompt.tokens.end() - 3, prompt.tokens.end());
    EXPECT_EQ(tail, vocab.encode_words({"?", "answer", ":"}));
  }
  EXPECT_EQ(build_niah_prompt(tokenizer, tokens, haystack, 120, 0.0, vocab.bos()).needle_begin, 1);
  EXPECT_NE(error_message<InvalidInput>([&] {
              build_niah_prompt(tokenizer, tokens, haystack, 10, 0.5, vocab.bos());
            }).find("cannot hold the needle"),
            std::string::npos);
}

TEST(RetrievalScore, StepsCountEveryEventAndSetEachPositionOnce) {
  // Prompt positions 2..4 are the answer [7, 8, 7].
  const std::vector<int32_t> prompt = {1, 5, 7, 8, 7, 9};
  const std::vector<int32_t> generated = {7, 8, 7, 7};
  // One layer, three heads: head 0 copies position 2 at every "7" step, head 1 points into
  // the span with the wrong token, head 2 points at a matching token outside the span.
  auto argmax = torch::tensor({2, 2, 0,  //
                               3, 4, 5,  //
                               2, 3, 0,  //
                               4, 2, 0},
                              torch::kInt64)
                    .view({4, 1, 3});
  auto steps = copy_paste_score(argmax, generated, prompt, 2, 5, RetrievalSemantics::kSteps);
  // Head 0: steps 0 (7@2), 1 (8@3), 2 (7@2), 3 (7@4) are events: 4 / 3.
  EXPECT_DOUBLE_EQ(steps[0][0].item<double>(), 4.0 / 3.0);
  // Head 1: 7@2 vs 8 at step 1 no; 8@3 vs 7 no; step 3: 7@2 yes; step 0: 7@2 yes.
  EXPECT_DOUBLE_EQ(steps[0][1].item<double>(), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(steps[0][2].item<double>(), 0.0);
  auto set = copy_paste_score(argmax, generated, prompt, 2, 5, RetrievalSemantics::kSet);
  EXPECT_DOUBLE_EQ(set[0][0].item<double>(), 1.0);        // positions 2, 3, 4
  EXPECT_DOUBLE_EQ(set[0][1].item<double>(), 1.0 / 3.0);  // position 2 twice
}

TEST(RetrievalDetect, CopyModelTraceMatchesFullPatterns) {
  auto model = copy_model();
  for (const RetrievalSemantics semantics :
       {RetrievalSemantics::kSteps, RetrievalSemantics::kSet}) {
    const RetrievalHeadResult result = detect_retrieval_heads(
        *model, zoo_tokenizer(),
        small_options(*model).with_needles({copy_needle()}).with_semantics(semantics));
    ASSERT_EQ(result.samples.size(), 1u);
    const RetrievalSample& sample = result.samples[0];
    // The model repeats the prompt's last ":" and every head looks at the first ":", the
    // needle's, which is inside the answer "one : two": an event at each of the 6 steps.
    const int32_t colon = Vocabulary::builtin().id(":");
    EXPECT_EQ(sample.generated, std::vector<int32_t>(6, colon));
    const double expected = semantics == RetrievalSemantics::kSteps ? 6.0 / 3.0 : 1.0 / 3.0;
    // Event counts divided by the needle's length: one float64 rounding here and one there.
    EXPECT_TRUE(test::tol::within(sample.score, torch::full({2, 2}, expected, torch::kFloat64),
                                  test::tol::gamma(2, test::tol::kFloat64) * expected, "score"));
    expect_matches_reference(*model, sample, semantics);
    // ": : :" recalls nothing of "one : two" (":" is no ROUGE word): not accepted.
    EXPECT_FALSE(sample.accepted);
    EXPECT_EQ(result.accepted, 0);
    EXPECT_TRUE(torch::equal(result.score, torch::zeros({2, 2}, torch::kFloat64)));
  }
}

TEST(RetrievalDetect, RotaryGqaTraceMatchesFullPatterns) {
  auto model = random_llama();
  const RetrievalHeadResult result =
      detect_retrieval_heads(*model, zoo_tokenizer(),
                             small_options(*model).with_depths({0.0, 1.0}).with_lengths({40, 64}));
  ASSERT_EQ(result.samples.size(), 2u * 2u * builtin_needles().size());
  for (const RetrievalSample& sample : result.samples) {
    expect_matches_reference(*model, sample, RetrievalSemantics::kSteps);
  }
  EXPECT_EQ(result.kv_group_max.sizes(), (std::vector<int64_t>{2, 2}));
}

TEST(RetrievalDetect, AggregatesAcceptedSamplesAndGroups) {
  auto model = copy_model();
  // The prompt ends with "maria", which the model repeats: the answer "maria maria" is recalled.
  Needle needle{"the special number of maria is one maria maria two .",
                "what is the special number of maria ?", "maria maria", "repeat needle"};
  const RetrievalHeadResult result =
      detect_retrieval_heads(*model, zoo_tokenizer(),
                             small_options(*model).with_needles({needle}).with_question_template(
                                 " \n question : {question} answer : maria"));
  const RetrievalSample& sample = result.samples[0];
  const int32_t maria = Vocabulary::builtin().id("maria");
  // The model repeats "maria"; stop_at_answer ends decoding after "maria maria".
  EXPECT_EQ(sample.generated, std::vector<int32_t>(2, maria));
  EXPECT_TRUE(sample.accepted);
  EXPECT_EQ(result.accepted, 1);
  // Every head's first "maria" is the needle's name, outside the answer: no events.
  expect_matches_reference(*model, sample, RetrievalSemantics::kSteps);
  EXPECT_TRUE(torch::equal(result.score, sample.score));
}

TEST(RetrievalDetect, DefaultsFollowTheModel) {
  ModelConfig config = base_config(1, 2, 2, 8, 4);
  config.max_positions = 1024;
  config.bos_token_id = 256;
  config.eos_token_id = 100000;  // outside the vocabulary: not used
  const RetrievalOptions options = RetrievalOptions::for_model(config);
  EXPECT_EQ(options.lengths, (std::vector<int64_t>{243, 487, 730, 974}));
  ASSERT_EQ(options.depths.size(), 10u);
  EXPECT_EQ(options.depths.front(), 0.0);
  EXPECT_EQ(options.depths.back(), 1.0);
  EXPECT_EQ(options.bos, std::optional<int32_t>(256));
  EXPECT_TRUE(options.stop_tokens.empty());
  config.max_positions = 128;
  EXPECT_EQ(RetrievalOptions::for_model(config).lengths, (std::vector<int64_t>{64, 78}));
}

TEST(RetrievalDetect, RejectsBadOptions) {
  auto model = copy_model();
  const Tokenizer& tok = zoo_tokenizer();
  const auto message = [&](RetrievalOptions options) {
    return error_message<InvalidInput>([&] { detect_retrieval_heads(*model, tok, options); });
  };
  EXPECT_NE(message(small_options(*model).with_lengths({})).find("--length"), std::string::npos);
  EXPECT_NE(message(small_options(*model).with_depths({0.5, 1.5})).find("--depth: 1.5"),
            std::string::npos);
  EXPECT_NE(message(small_options(*model).with_lengths({12})).find("cannot hold"),
            std::string::npos);
  EXPECT_NE(message(small_options(*model).with_lengths({251})).find("learned positions"),
            std::string::npos);
  EXPECT_NE(message(small_options(*model).with_max_new_tokens(0)).find("--max-new-tokens"),
            std::string::npos);
  EXPECT_NE(message(small_options(*model).with_threshold(std::nan(""))).find("--threshold"),
            std::string::npos);
  EXPECT_NE(message(small_options(*model).with_question_template("no slot")).find("{question}"),
            std::string::npos);
  EXPECT_NE(message(small_options(*model).with_bos(100000)).find("bos token 100000"),
            std::string::npos);
}

class RetrievalOutput : public test::TempDirTest {};

TEST_F(RetrievalOutput, WritesReadsAndExports) {
  auto model = copy_model();
  RetrievalHeadResult result = detect_retrieval_heads(
      *model, zoo_tokenizer(),
      small_options(*model).with_needles({copy_needle()}).with_depths({0.0, 0.5}));
  // Mark one sample accepted by hand to see it in the aggregate and the export.
  result.samples[1].accepted = true;
  result.accepted = 1;
  result.score = result.samples[1].score.clone();
  const std::string file = path("r.h5");
  RecordingWriter::create(file, summarize(*model));
  const AnalysisTarget target{file, summarize(*model), OutputMode::kAppend};
  write_retrieval_heads(target, result, "copy-model");
  EXPECT_TRUE(torch::equal(read_retrieval_scores(file), result.score));
  // A second write replaces the first.
  write_retrieval_heads(target, result, "copy-model");
  EXPECT_TRUE(torch::equal(read_retrieval_scores(file), result.score));

  const std::string json_path = path("head_score.json");
  export_retrieval_json(json_path, result);
  std::ifstream in(json_path);
  const nlohmann::json json = nlohmann::json::parse(in);
  ASSERT_EQ(json.size(), 4u);
  EXPECT_EQ(json.begin().key(), "0-0");
  EXPECT_EQ(json.at("1-1").size(), 1u);
  EXPECT_DOUBLE_EQ(json.at("1-1")[0].get<double>(), result.samples[1].score[1][1].item<double>());

  const std::string empty = path("empty.h5");
  RecordingWriter::create(empty, summarize(*model));
  EXPECT_NE(error_message<InvalidInput>([&] {
              read_retrieval_scores(empty);
            }).find("has no /analyses/retrieval_heads/score"),
            std::string::npos);

  if (std::system("/usr/bin/python3 -c 'import h5py' 2>/dev/null") != 0) {
    GTEST_SKIP() << "Debian's python3-h5py is not installed";
  }
  const test::ShellResult check = test::shell(
      "/usr/bin/python3 -c \"import h5py; g = h5py.File('" + file +
      "')['analyses/retrieval_heads']; "
      "print(g['score'].dtype, g['score'].shape, g['per_sample'].shape, g['kv_group_max'].shape, "
      "g.attrs['semantics'], list(g.attrs['depths']), g['generated_text'][0].decode(), "
      "int(g['accepted'][1]))\"");
  EXPECT_EQ(check.status, 0) << check.output;
  EXPECT_EQ(check.output, "float64 (2, 2) (2, 2, 2) (2, 2) steps [0.0, 0.5]  : : : : : : 1\n");

  // Every sample's prompt and generated tokens, ragged: sample 1's read back with plain h5py.
  const auto joined = [](const std::vector<int32_t>& ids) {
    std::string text;
    for (int32_t id : ids) text += (text.empty() ? "" : ",") + std::to_string(id);
    return text;
  };
  const test::ShellResult tokens = test::shell(
      "/usr/bin/python3 -c \"import h5py; g = h5py.File('" + file +
      "')['analyses/retrieval_heads']; "
      "o, n = int(g['prompt_offset'][1]), int(g['prompt_length'][1]); "
      "print(','.join(map(str, g['prompt_tokens'][o:o + n]))); "
      "o, n = int(g['generated_offset'][1]), int(g['generated_length'][1]); "
      "print(','.join(map(str, g['generated_tokens'][o:o + n]))); "
      "print(g['prompt_tokens'].dtype, g['prompt_tokens'].shape[0] == sum(g['prompt_length']))\"");
  EXPECT_EQ(tokens.status, 0) << tokens.output;
  ASSERT_FALSE(result.samples[1].generated.empty());
  EXPECT_EQ(tokens.output, joined(result.samples[1].prompt) + "\n" +
                               joined(result.samples[1].generated) + "\nint32 True\n");

  if (std::system("/usr/bin/python3 -c 'import xarray, h5netcdf' 2>/dev/null") != 0) return;
  const test::ShellResult labelled = test::shell(
      "/usr/bin/python3 -c \"import xarray as xr; ds = xr.open_dataset('" + file +
      "', engine='h5netcdf', group='analyses/retrieval_heads'); "
      "print(ds.per_sample.dims, ds.kv_group_max.dims, list(ds.span_edge.values), "
      "float(ds.score.sel(layer=1, head=1)) == float(ds.per_sample.sel(sample=1, layer=1, "
      "head=1)))\"");
  EXPECT_EQ(labelled.status, 0) << labelled.output;
  EXPECT_EQ(labelled.output,
            "('sample', 'layer', 'head') ('layer', 'kv_head') ['begin', 'end'] True\n");
}

}  // namespace
}  // namespace headscope
