// Retrieval-head detection (Wu et al. 2024, "Retrieval Head Mechanistically Explains
// Long-Context Factuality"), as its reference code computes it:
//  - needle-in-a-haystack prompts over lengths x depths x needles (niah_prompt.h);
//  - the prompt minus its last token is prefilled through the model's fused attention, then
//    greedy decoding with the KV cache, from the last prompt token, up to max_new_tokens,
//    stopping after a newline, an end-of-sequence token or the whole answer;
//  - at every decoding step, per layer and query head, the key j* with the largest q.k for that
//    step's single query (the argmax of its attention row; never a full map);
//  - a copy-paste event when j* lies in the answer span [s, e) and the prompt token at j* is the
//    token just generated; the sample's head score adds 1 / (e - s) per event (kSteps, the
//    original: a score can exceed 1) or counts each span position once (kSet);
//  - samples count when the generated text's ROUGE-1 recall of the answer exceeds
//    min_rouge; a head's score is the mean over counted samples; retrieval heads score above
//    the threshold.
//
//   RetrievalOptions options = RetrievalOptions::for_model(model.config());
//   RetrievalHeadResult result = detect_retrieval_heads(model, tokenizer, options);
//   result.score;  // float64 [layer, head]
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

#include "analyses/retrieval/needles.h"
#include "core/checkpoint/model_config.h"
#include "core/model/transformer.h"
#include "core/tokenizer/tokenizer.h"

namespace headscope {

enum class RetrievalSemantics : uint8_t {
  kSteps,  // every decoding step with an event counts (Retrieval_Head's code)
  kSet,    // each answer position counts once per head (the paper's |g_h ∩ k| / |k|)
};

inline const std::vector<RetrievalSemantics> kRetrievalSemantics = {RetrievalSemantics::kSteps,
                                                                   RetrievalSemantics::kSet};
const char* retrieval_semantics_name(RetrievalSemantics semantics);

struct RetrievalOptions {
  std::vector<int64_t> lengths;  // prompt lengths in tokens; for_model() picks defaults
  std::vector<double> depths;    // needle depths in [0, 1]; default 10 from 0 to 1
  std::vector<Needle> needles;   // empty: builtin_needles()
  // Haystack text; empty: the built-in filler grammar. haystack_label names it in the output.
  std::string haystack;
  std::string haystack_label = "builtin-filler";
  // Follows the haystack; "{question}" is replaced by the needle's question. The default is the
  // zoo's needle task format (analyses/tasks/needle_task.h).
  std::string question_template = " \n question : {question} answer :";
  int64_t max_new_tokens = 50;
  RetrievalSemantics semantics = RetrievalSemantics::kSteps;
  double threshold = 0.1;            // retrieval heads score above it
  double min_rouge = 0.5;            // samples count when ROUGE-1 recall exceeds it
  std::optional<int32_t> bos;        // prepended to every prompt
  std::vector<int32_t> stop_tokens;  // end-of-sequence tokens that end decoding
  bool stop_at_newline = true;       // stop after a token whose text holds '\n'
  bool stop_at_answer = true;        // stop once the generated tokens end with the answer's
  uint64_t seed = 0;                 // of the built-in filler text
  // Grid indices (retrieval_sample_costs' order) this call runs, in this order; empty: every
  // sample. A rank of a distributed scan runs its share and score_retrieval_samples() combines
  // the samples gathered from all ranks.
  std::vector<int64_t> only_samples;
  // Called after each sample with (samples done, total).
  std::function<void(int64_t, int64_t)> on_sample;

  // Defaults for a model: bos and eos from its config (when inside the vocabulary), depths
  // 0, 1/9, ..., 1, and up to four lengths evenly spaced up to min(4096, max_positions -
  // max_new_tokens), none below 64.
  static RetrievalOptions for_model(const ModelConfig& config);

  RetrievalOptions& with_lengths(std::vector<int64_t> v) { return lengths = std::move(v), *this; }
  RetrievalOptions& with_depths(std::vector<double> v) { return depths = std::move(v), *this; }
  RetrievalOptions& with_needles(std::vector<Needle> v) { return needles = std::move(v), *this; }
  RetrievalOptions& with_haystack(std::string text, std::string label) {
    haystack = std::move(text), haystack_label = std::move(label);
    return *this;
  }
  RetrievalOptions& with_question_template(std::string v) {
    return question_template = std::move(v), *this;
  }
  RetrievalOptions& with_max_new_tokens(int64_t v) { return max_new_tokens = v, *this; }
  RetrievalOptions& with_semantics(RetrievalSemantics v) { return semantics = v, *this; }
  RetrievalOptions& with_threshold(double v) { return threshold = v, *this; }
  RetrievalOptions& with_min_rouge(double v) { return min_rouge = v, *this; }
  RetrievalOptions& with_bos(std::optional<int32_t> v) { return bos = v, *this; }
  RetrievalOptions& with_stop_tokens(std::vector<int32_t> v) {
    return stop_tokens = std::move(v), *this;
  }
  RetrievalOptions& with_seed(uint64_t v) { return seed = v, *this; }
  RetrievalOptions& with_progress(std::function<void(int64_t, int64_t)> f) {
    return on_sample = std::move(f), *this;
  }
};

struct RetrievalSample {
  int64_t index = 0;  // in the grid: (length * depths + depth) * needles + needle
  int64_t length = 0;
  double depth = 0.0;
  int64_t needle = 0;  // index into the needles used
  std::vector<int32_t> prompt;
  int64_t answer_begin = 0;  // the answer span in the prompt, [begin, end)
  int64_t answer_end = 0;
  std::vector<int32_t> generated;
  std::string text;  // generated tokens decoded
  double rouge = 0.0;
  bool accepted = false;
  // Per decoding step, layer and query head: the key with the largest attention. int64
  // [steps, layers, heads].
  torch::Tensor argmax;
  torch::Tensor score;  // float64 [layers, heads], this sample's copy-paste score
};

struct RetrievalHeadResult {
  RetrievalOptions options;              // as run: defaults filled in, needles resolved
  std::vector<RetrievalSample> samples;  // lengths x depths x needles, needle fastest
  int64_t accepted = 0;
  // Mean of the accepted samples' scores, float64 [layers, heads]; zeros when none was accepted.
  torch::Tensor score;
  torch::Tensor kv_group_max;  // float64 [layers, kv_heads]: the best query head per KV head
  // Heads scoring above the threshold, best first, as (layer, head).
  std::vector<std::pair<int64_t, int64_t>> retrieval_heads;
};

// The copy-paste score of one decoding trace. argmax: int64 [steps, layers, heads];
// generated: the token of each step; prompt tokens and the answer span [begin, end).
torch::Tensor copy_paste_score(const torch::Tensor& argmax, const std::vector<int32_t>& generated,
                               const std::vector<int32_t>& prompt, int64_t answer_begin,
                               int64_t answer_end, RetrievalSemantics semantics);

// The cost of each grid sample (lengths x depths x needles, needle fastest), for sharding a scan:
// its prompt length, which sets both the prefill and each decoding step's attention.
std::vector<double> retrieval_sample_costs(const RetrievalOptions& options);

// Fills accepted, score, kv_group_max and retrieval_heads from result.samples (in grid order).
void score_retrieval_samples(RetrievalHeadResult& result, const ModelConfig& config);

// Runs the grid (or options.only_samples of it, then with only the samples filled in).
// InvalidInput naming the option for empty or bad lengths, depths,
// needles, thresholds, a length too short for a needle, or too long for a model with learned
// positions; tokens outside the model's vocabulary are rejected by the model.
RetrievalHeadResult detect_retrieval_heads(const Transformer& model, const Tokenizer& tokenizer,
                                           const RetrievalOptions& options);

}  // namespace headscope
