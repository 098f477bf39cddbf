// Names of the sparsity SNR analysis (docs/FORMAT.md, "Sparsity SNR"; written by
// analyses/snr/snr_output.cpp). Every name a file holds is spelled here once.
//
//  /analyses/sparsity_snr/: a model with L layers and H query heads, nB block sizes, nK top-k
//    values and Q queries:
//      [L, H] (layer, head): delta_mu, sigma
//      [L, H, nB] (layer, head, block_size): snr_theory, delta_mu_eff, sigma_block,
//        snr_measured, mean_rank, pairwise_error, predicted_error
//      [L, H, nB, nK] (layer, head, block_size, topk): recall, predicted_recall
//      [nB] (block_size): routed_queries, current_block_queries, mean_noise_blocks
//      [Q] (query): query_sample, query_position, query_relevant
//      query_rank int64 [L, H, nB, Q], query_delta_mu float64 [L, H, Q]
//    scales block_size and topk hold their values; attributes hold every parameter.
#pragma once

namespace headscope {

inline constexpr char kSparsitySnrAnalysis[] = "sparsity_snr";
inline constexpr char kDimBlockSize[] = "block_size";
inline constexpr char kDimTopK[] = "topk";
inline constexpr char kDimQuery[] = "query";

// Every dataset of the analysis with its dimensions (space-separated), in the order
// docs/FORMAT.md lists them; `integer`: int64, else float64.
struct SnrDataset {
  const char* name;
  const char* dimensions;
  bool integer;
};
inline constexpr SnrDataset kSnrDatasets[] = {
    {"delta_mu", "layer head", false},
    {"sigma", "layer head", false},
    {"snr_theory", "layer head block_size", false},
    {"delta_mu_eff", "layer head block_size", false},
    {"sigma_block", "layer head block_size", false},
    {"snr_measured", "layer head block_size", false},
    {"mean_rank", "layer head block_size", false},
    {"pairwise_error", "layer head block_size", false},
    {"predicted_error", "layer head block_size", false},
    {"recall", "layer head block_size topk", false},
    {"predicted_recall", "layer head block_size topk", false},
    {"routed_queries", "block_size", true},
    {"current_block_queries", "block_size", true},
    {"mean_noise_blocks", "block_size", false},
    {"query_sample", "query", true},
    {"query_position", "query", true},
    {"query_relevant", "query", true},
    {"query_rank", "layer head block_size query", true},
    {"query_delta_mu", "layer head query", false},
};

// Attributes beyond the sample parameters (task, samples, length, seed) every analysis records.
inline constexpr char kAttrDataset[] = "dataset";  // the --dataset file, "" for a task
inline constexpr char kAttrKeyConv[] = "key_conv";
inline constexpr char kAttrAttentionScale[] = "attention_scale";
inline constexpr char kAttrSnrTheoryFormula[] = "snr_theory_formula";
inline constexpr char kAttrSnrMeasuredFormula[] = "snr_measured_formula";
inline constexpr char kAttrCurrentBlockRule[] = "current_block_rule";
inline constexpr char kAttrRelevantBlockRule[] = "relevant_block_rule";
inline constexpr char kAttrQueryRule[] = "query_rule";
inline constexpr const char* kSnrAttributes[] = {
    kAttrDataset,            kAttrKeyConv,          kAttrAttentionScale,    kAttrSnrTheoryFormula,
    kAttrSnrMeasuredFormula, kAttrCurrentBlockRule, kAttrRelevantBlockRule, kAttrQueryRule};

}  // namespace headscope
