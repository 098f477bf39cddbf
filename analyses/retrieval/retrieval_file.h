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
//   prompt_tokens int32 [P], prompt_offset int64 [S], prompt_length int64 [S]: each sample's
//     whole prompt as scored (bos included; the model prefills all but its last token, then
//     decodes from that one), ragged as in analyses/sample_tokens.h
//   generated_tokens int32 [G], generated_offset int64 [S], generated_length int64 [S]: the
//     tokens decoded at each step (generated_length equals steps)
//   retrieval_heads int64 [K, 2]  (layer, head) above the threshold, best first
//   needles/needle, needles/question, needles/answer: strings [N]
//   attributes: every parameter (lengths, depths, semantics, threshold, min_rouge,
//   max_new_tokens, question_template, haystack, seed, bos, stop_tokens, stop_at_newline,
//   stop_at_answer, samples, accepted_samples, model_path)
//   dimension scales: layer, head, kv_head, sample, retrieval_head (0..n-1); span_edge
//   ("begin", "end") and head_coordinate ("layer", "head") on the [.., 2] axes
#pragma once

#include <optional>
#include <string>

#include <torch/types.h>

#include "analyses/retrieval/retrieval_heads.h"
#include "core/checkpoint/model_config.h"
#include "core/store/analysis_writer.h"

namespace headscope {

inline constexpr char kRetrievalAnalysis[] = "retrieval_heads";
// The per-head scores that ablation and sparse configs read: float64 [n_layers, n_heads].
inline constexpr char kRetrievalScoreDataset[] = "/analyses/retrieval_heads/score";

// Writes the group into the target (core/store/analysis_writer.h), replacing an earlier one.
// Axes carry the dimension scales layer, head, kv_head and sample.
void write_retrieval_heads(const AnalysisTarget& target, const RetrievalHeadResult& result,
                           const std::string& model_path);

// Retrieval_Head's head_score format: one line of JSON, {"L-H": [score of each accepted
// sample, in run order], ...}. Written to a temporary name and renamed; IoError naming `path`.
void export_retrieval_json(const std::string& path, const RetrievalHeadResult& result);

// /analyses/retrieval_heads/score of a file, float64 [layers, heads]. IoError when the file
// cannot be opened; InvalidInput naming the file when it has no such dataset or it is not 2-D.
torch::Tensor read_retrieval_scores(const std::string& path);

// The [n_layers, n_heads] float64 tensor at `dataset` (any floating type in the file), per-head
// scores such as kRetrievalScoreDataset. IoError when the file cannot be opened as HDF5;
// InvalidInput naming the file and dataset when it is missing, not floating point, or not shaped
// [config.n_layers, config.n_heads].
torch::Tensor read_head_scores(const std::string& path, const std::string& dataset,
                               const ModelConfig& config);

// The 2-D floating-point dataset `dataset` (absolute path) of a file as float64; std::nullopt
// when the file has none. IoError when the file cannot be opened as HDF5; InvalidInput naming
// the file and dataset when it is not 2-D or not floating point.
std::optional<torch::Tensor> read_score_grid(const std::string& path, const std::string& dataset);

}  // namespace headscope
