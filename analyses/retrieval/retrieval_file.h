// Retrieval-head results on disk: the /analyses/retrieval_heads/ group of a recording, the
// Retrieval_Head JSON export, and the reader other analyses use for the scores.
//
// /analyses/retrieval_heads/ (S samples, L layers, H query heads, Hkv KV heads):
//   score float64 [L, H]         mean copy-paste score over accepted samples (the contract that
//                                ablation and sparse configs read)
//   kv_group_max float64 [L, Hkv] the best query head of each KV group
//   per_sample float64 [S, L, H]  every sample's score, accepted or not
//   length int64 [S], depth float64 [S], needle int64 [S] (index into needles/),
//   accepted int32 [S] (1 or 0), rouge float64 [S], steps int64 [S] (decoding steps),
//   answer_span int64 [S, 2] ([begin, end) in the prompt), generated_text strings [S]
//   retrieval_heads int64 [K, 2]  (layer, head) above the threshold, best first
//   needles/needle, needles/question, needles/answer: strings [N]
//   attributes: every parameter (lengths, depths, semantics, threshold, min_rouge,
//   max_new_tokens, question_template, haystack, seed, bos, stop_tokens, stop_at_newline,
//   stop_at_answer, samples, accepted_samples, model_path)
#pragma once

#include <string>

#include <torch/types.h>

#include "analyses/retrieval/retrieval_heads.h"

namespace headscope {

inline constexpr char kRetrievalAnalysis[] = "retrieval_heads";

// Writes the group into an existing recording (core/recording_writer.h AnalysisWriter),
// replacing an earlier one.
void write_retrieval_heads(const std::string& path, const RetrievalHeadResult& result,
                           const std::string& model_path);

// Retrieval_Head's head_score format: one line of JSON, {"L-H": [score of each accepted
// sample, in run order], ...}. Written to a temporary name and renamed; IoError naming `path`.
void export_retrieval_json(const std::string& path, const RetrievalHeadResult& result);

// /analyses/retrieval_heads/score of a file, float64 [layers, heads]. IoError when the file
// cannot be opened; InvalidInput naming the file when it has no such dataset or it is not 2-D.
torch::Tensor read_retrieval_scores(const std::string& path);

}  // namespace headscope
