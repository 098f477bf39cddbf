#include "analyses/retrieval/retrieval_heads.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <set>

#include "analyses/retrieval/niah_prompt.h"
#include "analyses/retrieval/rouge.h"
#include "core/base/error.h"
#include "core/model/hook_sink.h"
#include "core/model/kv_cache.h"

namespace headscope {
namespace {

constexpr int64_t kDefaultDepths = 10;
constexpr int64_t kDefaultLengths = 4;
constexpr int64_t kDefaultMaxLength = 4096;
constexpr int64_t kMinDefaultLength = 64;

// Keeps each layer's query of the current forward pass (the one the scores are computed from:
// after rotary where the model has it); listens to nothing else, so every layer keeps its fused
// attention.
class QueryCapture : public HookSink {
 public:
  explicit QueryCapture(const Transformer& model)
      : kind_(model.hook_names().scored_q()),
        queries_(static_cast<size_t>(model.config().n_layers)) {}

  bool active(HookPoint point) const override { return point.kind == kind_; }
  torch::Tensor fire(HookPoint point, torch::Tensor value) override {
    queries_[static_cast<size_t>(point.layer)] = value;
    return value;
  }
  const torch::Tensor& query(int64_t layer) const { return queries_[static_cast<size_t>(layer)]; }

 private:
  HookKind kind_;
  std::vector<torch::Tensor> queries_;  // [1, 1, H, D]
};

// Per layer and query head, the key the single query of this step attends to most: the
// argmax of its scaled scores, computed as the model's explicit attention computes them.
// Returns int64 [layers, heads] on the CPU.
torch::Tensor step_argmax(const Transformer& model, const QueryCapture& capture,
                          const KVCache& cache) {
  const ModelConfig& c = model.config();
  const double scale = model.attention_scale();
  std::vector<torch::Tensor> rows;
  rows.reserve(static_cast<size_t>(c.n_layers));
  for (int64_t layer = 0; layer < c.n_layers; ++layer) {
    const torch::Tensor& q = capture.query(layer);
    HS_ASSERT(q.defined() && q.size(1) == 1);
    auto qh = q.transpose(1, 2).to(torch::kFloat32);                       // [1, H, 1, D]
    auto kh = cache.keys[static_cast<size_t>(layer)].to(torch::kFloat32);  // [1, Hkv, S, D]
    if (c.n_kv_heads != c.n_heads) kh = kh.repeat_interleave(c.kv_group_size(), 1);
    auto scores = torch::matmul(qh, kh.transpose(2, 3)) * scale;  // [1, H, 1, S]
    const int64_t keys = scores.size(3);
    if (c.sliding_window && keys > *c.sliding_window) {
      // The query sits at position keys - 1; older keys than the window are masked.
      scores.narrow(3, 0, keys - *c.sliding_window).fill_(-std::numeric_limits<float>::infinity());
    }
    rows.push_back(scores.argmax(3).view({c.n_heads}));
  }
  return torch::stack(rows).to(torch::kCPU, torch::kInt64);
}

bool ends_with(const std::vector<int32_t>& tokens, const std::vector<int32_t>& tail) {
  return !tail.empty() && tokens.size() >= tail.size() &&
         std::equal(tail.begin(), tail.end(), tokens.end() - static_cast<int64_t>(tail.size()));
}

constexpr char kReplacement[] = "\xEF\xBF\xBD";  // U+FFFD

// The generated text, safe to store as an HDF5 string: ids the tokenizer does not have (a model
// vocabulary padded beyond it) and NUL bytes become U+FFFD.
std::string generated_text(const Tokenizer& tokenizer, const std::vector<int32_t>& ids) {
  std::string text;
  std::vector<int32_t> run;
  for (size_t i = 0; i <= ids.size(); ++i) {
    if (i < ids.size() && ids[i] >= 0 && ids[i] < tokenizer.vocab_size()) {
      run.push_back(ids[i]);
      continue;
    }
    if (!run.empty()) text += tokenizer.decode(run);
    run.clear();
    if (i < ids.size()) text += kReplacement;
  }
  std::string out;
  for (const char c : text) {
    if (c == '\0') {
      out += kReplacement;
    } else {
      out += c;
    }
  }
  return out;
}

void check_options(const RetrievalOptions& options, const ModelConfig& config) {
  if (options.lengths.empty()) throw InvalidInput("--length: give at least one length");
  for (int64_t length : options.lengths) {
    if (length < 2) {
      throw InvalidInput("--length: " + std::to_string(length) + " is below 2 tokens");
    }
    if (config.learned_positions && length + options.max_new_tokens > config.max_positions) {
      throw InvalidInput("--length: " + std::to_string(length) + " tokens plus " +
                         std::to_string(options.max_new_tokens) + " generated exceed the model's " +
                         std::to_string(config.max_positions) + " learned positions");
    }
  }
  if (options.depths.empty()) throw InvalidInput("--depth: give at least one depth");
  for (double depth : options.depths) {
    if (!(depth >= 0.0 && depth <= 1.0)) {
      throw InvalidInput("--depth: " + std::to_string(depth) + " is outside [0, 1]");
    }
  }
  if (options.max_new_tokens < 1) {
    throw InvalidInput("--max-new-tokens: expected at least 1, got " +
                       std::to_string(options.max_new_tokens));
  }
  if (!std::isfinite(options.threshold)) throw InvalidInput("--threshold: must be a number");
  if (!(options.min_rouge >= 0.0 && options.min_rouge < 1.0)) {
    throw InvalidInput("min_rouge: expected a value in [0, 1), got " +
                       std::to_string(options.min_rouge));
  }
  const auto in_vocab = [&](int64_t id) { return id >= 0 && id < config.vocab_size; };
  if (options.bos && !in_vocab(*options.bos)) {
    throw InvalidInput("bos token " + std::to_string(*options.bos) +
                       " is outside the model's vocabulary of " +
                       std::to_string(config.vocab_size));
  }
  for (int32_t id : options.stop_tokens) {
    if (!in_vocab(id)) {
      throw InvalidInput("stop token " + std::to_string(id) +
                         " is outside the model's vocabulary of " +
                         std::to_string(config.vocab_size));
    }
  }
}

struct DecodeTrace {
  std::vector<int32_t> generated;
  torch::Tensor argmax;  // [steps, layers, heads]
};

DecodeTrace decode(const Transformer& model, const Tokenizer& tokenizer,
                   const std::vector<int32_t>& prompt, const std::vector<int32_t>& answer,
                   const RetrievalOptions& options) {
  torch::NoGradGuard no_grad;
  KVCache cache;
  const auto as_tensor = [](const std::vector<int32_t>& ids) {
    return torch::tensor(std::vector<int64_t>(ids.begin(), ids.end()), torch::kInt64).unsqueeze(0);
  };
  if (prompt.size() > 1) {
    // No hooks: the prefill runs the fused attention.
    model.forward(as_tensor({prompt.begin(), prompt.end() - 1}), nullptr, &cache,
                  LogitPositions::kNone);
  }
  QueryCapture capture(model);
  DecodeTrace trace;
  std::vector<torch::Tensor> steps;
  int32_t input = prompt.back();
  for (int64_t step = 0; step < options.max_new_tokens; ++step) {
    auto logits = model.forward(as_tensor({input}), &capture, &cache);
    const auto next = static_cast<int32_t>(logits[0][-1].argmax().item<int64_t>());
    steps.push_back(step_argmax(model, capture, cache));
    trace.generated.push_back(next);
    const bool stop_token = std::find(options.stop_tokens.begin(), options.stop_tokens.end(),
                                      next) != options.stop_tokens.end();
    const bool newline = options.stop_at_newline && next < tokenizer.vocab_size() &&
                         tokenizer.token_text(next).find('\n') != std::string::npos;
    if (stop_token || newline || (options.stop_at_answer && ends_with(trace.generated, answer))) {
      break;
    }
    input = next;
  }
  trace.argmax = torch::stack(steps);
  return trace;
}

}  // namespace

const char* retrieval_semantics_name(RetrievalSemantics semantics) {
  return semantics == RetrievalSemantics::kSteps ? "steps" : "set";
}

RetrievalOptions RetrievalOptions::for_model(const ModelConfig& config) {
  RetrievalOptions options;
  const auto in_vocab = [&](std::optional<int64_t> id) {
    return id && *id >= 0 && *id < config.vocab_size;
  };
  if (in_vocab(config.bos_token_id)) options.bos = static_cast<int32_t>(*config.bos_token_id);
  if (in_vocab(config.eos_token_id)) {
    options.stop_tokens = {static_cast<int32_t>(*config.eos_token_id)};
  }
  for (int64_t i = 0; i < kDefaultDepths; ++i) {
    options.depths.push_back(static_cast<double>(i) / static_cast<double>(kDefaultDepths - 1));
  }
  const int64_t top =
      std::min<int64_t>(kDefaultMaxLength, config.max_positions - options.max_new_tokens);
  for (int64_t i = 1; i <= kDefaultLengths; ++i) {
    // Shorter prompts than kMinDefaultLength hold hardly any haystack.
    const int64_t length = std::max<int64_t>(kMinDefaultLength, top * i / kDefaultLengths);
    if (options.lengths.empty() || options.lengths.back() != length) {
      options.lengths.push_back(length);
    }
  }
  return options;
}

torch::Tensor copy_paste_score(const torch::Tensor& argmax, const std::vector<int32_t>& generated,
                               const std::vector<int32_t>& prompt, int64_t answer_begin,
                               int64_t answer_end, RetrievalSemantics semantics) {
  HS_ASSERT(argmax.dim() == 3 && argmax.size(0) == static_cast<int64_t>(generated.size()));
  HS_ASSERT(0 <= answer_begin && answer_begin < answer_end &&
            answer_end <= static_cast<int64_t>(prompt.size()));
  const int64_t steps = argmax.size(0), layers = argmax.size(1), heads = argmax.size(2);
  auto keys = argmax.to(torch::kCPU, torch::kInt64).contiguous();
  const int64_t* key = keys.data_ptr<int64_t>();
  // kSteps adds 1 / span per event, as Retrieval_Head does (and rounds as it does).
  const double increment = 1.0 / static_cast<double>(answer_end - answer_begin);
  std::vector<double> steps_score(static_cast<size_t>(layers * heads), 0.0);
  // kSet: which span positions each head has copied from.
  std::vector<std::set<int64_t>> copied(steps_score.size());
  for (int64_t step = 0; step < steps; ++step) {
    for (int64_t slot = 0; slot < layers * heads; ++slot) {
      const int64_t j = key[step * layers * heads + slot];
      if (j < answer_begin || j >= answer_end ||
          prompt[static_cast<size_t>(j)] != generated[step]) {
        continue;
      }
      steps_score[static_cast<size_t>(slot)] += increment;
      copied[static_cast<size_t>(slot)].insert(j);
    }
  }
  auto score = torch::zeros({layers, heads}, torch::kFloat64);
  double* out = score.data_ptr<double>();
  const auto span = static_cast<double>(answer_end - answer_begin);
  for (size_t slot = 0; slot < steps_score.size(); ++slot) {
    out[slot] = semantics == RetrievalSemantics::kSteps
                    ? steps_score[slot]
                    : static_cast<double>(copied[slot].size()) / span;
  }
  return score;
}

RetrievalHeadResult detect_retrieval_heads(const Transformer& model, const Tokenizer& tokenizer,
                                           const RetrievalOptions& options) {
  const ModelConfig& config = model.config();
  RetrievalHeadResult result;
  result.options = options;
  RetrievalOptions& used = result.options;
  used.on_sample = nullptr;
  if (used.needles.empty()) used.needles = builtin_needles();
  check_options(used, config);

  std::vector<TokenizedNeedle> needles;
  std::vector<std::vector<int32_t>> answers;
  int64_t fixed_min = std::numeric_limits<int64_t>::max();
  for (const Needle& needle : used.needles) {
    needles.push_back(tokenize_needle(tokenizer, needle, used.question_template));
    const TokenizedNeedle& tokens = needles.back();
    answers.emplace_back(tokens.needle.begin() + tokens.answer_begin,
                         tokens.needle.begin() + tokens.answer_end);
    const int64_t need = min_prompt_length(tokens, used.bos.has_value());
    const int64_t shortest = *std::min_element(used.lengths.begin(), used.lengths.end());
    if (shortest < need) {
      throw InvalidInput("--length: " + std::to_string(shortest) + " tokens cannot hold " +
                         needle.source + " and its question, which need " + std::to_string(need));
    }
    fixed_min = std::min(fixed_min, need);
  }
  const int64_t longest = *std::max_element(used.lengths.begin(), used.lengths.end());
  const int64_t budget = longest - fixed_min;
  // Every haystack word is at least one token, so `budget` words are enough.
  const std::string haystack_text =
      used.haystack.empty() ? filler_haystack_text(budget, used.seed) : used.haystack;
  const std::vector<int32_t> haystack = haystack_tokens(tokenizer, haystack_text, budget);

  std::vector<int64_t> run = used.only_samples;
  const auto grid =
      static_cast<int64_t>(used.lengths.size() * used.depths.size() * needles.size());
  if (run.empty()) {
    run.resize(static_cast<size_t>(grid));
    std::iota(run.begin(), run.end(), 0);
  }
  for (const int64_t index : run) HS_ASSERT(index >= 0 && index < grid);
  const auto n_needles = static_cast<int64_t>(needles.size());
  const auto n_depths = static_cast<int64_t>(used.depths.size());
  for (const int64_t index : run) {
    const auto n = static_cast<size_t>(index % n_needles);
    const double depth = used.depths[static_cast<size_t>(index / n_needles % n_depths)];
    const int64_t length = used.lengths[static_cast<size_t>(index / n_needles / n_depths)];
    const NiahPrompt prompt =
        build_niah_prompt(tokenizer, needles[n], haystack, length, depth, used.bos);
    DecodeTrace trace = decode(model, tokenizer, prompt.tokens, answers[n], used);
    RetrievalSample sample;
    sample.index = index;
    sample.length = length;
    sample.depth = depth;
    sample.needle = static_cast<int64_t>(n);
    sample.prompt = prompt.tokens;
    sample.answer_begin = prompt.answer_begin;
    sample.answer_end = prompt.answer_end;
    sample.generated = std::move(trace.generated);
    sample.argmax = std::move(trace.argmax);
    sample.text = generated_text(tokenizer, sample.generated);
    sample.rouge = rouge1_recall(used.needles[n].answer, sample.text);
    sample.accepted = sample.rouge > used.min_rouge;
    sample.score = copy_paste_score(sample.argmax, sample.generated, sample.prompt,
                                    sample.answer_begin, sample.answer_end, used.semantics);
    result.samples.push_back(std::move(sample));
    if (options.on_sample) {
      options.on_sample(static_cast<int64_t>(result.samples.size()),
                        static_cast<int64_t>(run.size()));
    }
  }
  if (used.only_samples.empty()) score_retrieval_samples(result, config);
  return result;
}

std::vector<double> retrieval_sample_costs(const RetrievalOptions& options) {
  const size_t needles =
      options.needles.empty() ? builtin_needles().size() : options.needles.size();
  std::vector<double> costs;
  for (int64_t length : options.lengths) {
    for (size_t i = 0; i < options.depths.size() * needles; ++i) {
      costs.push_back(static_cast<double>(length));
    }
  }
  return costs;
}

void score_retrieval_samples(RetrievalHeadResult& result, const ModelConfig& config) {
  const int64_t layers = config.n_layers, heads = config.n_heads;
  auto sum = torch::zeros({layers, heads}, torch::kFloat64);
  result.accepted = 0;
  for (const RetrievalSample& sample : result.samples) {
    if (sample.accepted) {
      sum += sample.score;
      ++result.accepted;
    }
  }
  result.score = result.accepted > 0 ? sum / static_cast<double>(result.accepted) : sum;
  result.kv_group_max =
      std::get<0>(result.score.view({layers, config.n_kv_heads, config.kv_group_size()}).max(2));
  const double* score = result.score.data_ptr<double>();
  result.retrieval_heads.clear();
  for (int64_t layer = 0; layer < layers; ++layer) {
    for (int64_t head = 0; head < heads; ++head) {
      if (score[layer * heads + head] > result.options.threshold) {
        result.retrieval_heads.emplace_back(layer, head);
      }
    }
  }
  std::stable_sort(result.retrieval_heads.begin(), result.retrieval_heads.end(),
                   [&](const auto& a, const auto& b) {
                     return score[a.first * heads + a.second] > score[b.first * heads + b.second];
                   });
}

}  // namespace headscope
