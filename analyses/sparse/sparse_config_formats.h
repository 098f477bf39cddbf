// Per-head sparse-attention configs derived from retrieval scores and/or recorded attention
// statistics, in four formats (docs/SPARSE_CONFIGS.md says how each field is derived; the
// formats' names and DuoAttention's files: core/checkpoint/sparse_config_files.h):
//   duo         full_attention_heads.tsv + config.json (DuoAttention)
//   moa         moa_alpha_beta.json + opt_alpha_beta.csv (MoA)
//   minference  minference_best_pattern.json (MInference)
//   headscope   sparse_config.json (kernels/sparse_attention.h; `headscope sparse-eval` runs it)
//
//   auto evidence = read_head_evidence("rec.h5");
//   write_sparse_configs(evidence, SparseFormat::kDuo, "out/",
//                        SparseConfigOptions().with_sparsity(0.5));
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <torch/types.h>

#include "analyses/sparse/head_evidence.h"
#include "core/checkpoint/sparse_config_files.h"
#include "core/checkpoint/sparse_model_config.h"

namespace headscope {

struct SparseConfigOptions {
  // Fraction of heads made sparse (headscope: query heads, default 0.5; duo: KV heads, written
  // as 0/1 gates; unset for duo writes the continuous scores).
  std::optional<double> sparsity;
  // Streaming heads' sink and window; unset: the statistics' sink/window, else 4 and 64.
  std::optional<int64_t> sink, window;
  // What ranks heads: "retrieval" (the retrieval score), "stats" (attention mass a streaming
  // head would lose), "auto" (retrieval when the file has it).
  std::string score = "auto";
  // headscope: what the sparse heads become, and block-sparse's block size (unset: the
  // statistics' block size, else 64) and kept blocks.
  SparseKind sparse_kind = SparseKind::kStreaming;
  std::optional<int64_t> block_size;
  int64_t topk_blocks = 4;
  double coverage = 0.9;  // moa: attention mass a head's span must hold
  // "stats" ranking: the last fraction of each run's queries it averages over (a needle is
  // read from the question at the end; 1 = every query).
  double tail = 1.0;

  SparseConfigOptions& with_sparsity(double v) { return sparsity = v, *this; }
  SparseConfigOptions& with_sink(int64_t v) { return sink = v, *this; }
  SparseConfigOptions& with_window(int64_t v) { return window = v, *this; }
  SparseConfigOptions& with_score(std::string v) { return score = std::move(v), *this; }
  SparseConfigOptions& with_sparse_kind(SparseKind v) { return sparse_kind = v, *this; }
  SparseConfigOptions& with_block_size(int64_t v) { return block_size = v, *this; }
  SparseConfigOptions& with_topk_blocks(int64_t v) { return topk_blocks = v, *this; }
  SparseConfigOptions& with_coverage(double v) { return coverage = v, *this; }
  SparseConfigOptions& with_tail(double v) { return tail = v, *this; }
};

// Per-head ranking: float64 [L, H], higher = more in need of full attention.
struct HeadRanking {
  torch::Tensor score;
  std::string source;  // "retrieval" or "stats"
};

// InvalidInput when the options are out of range or ask for data the file lacks.
void check_sparse_config_options(const SparseConfigOptions& options);
HeadRanking rank_heads(const HeadEvidence& evidence, const SparseConfigOptions& options);

// The head a sparse head becomes under these options (sink/window/block size resolved).
SparseHeadConfig sparse_head_template(const HeadEvidence& evidence,
                                      const SparseConfigOptions& options);

// The round(sparsity * L * H) lowest-scoring heads become `sparse_head`, the rest full; equal
// scores: the earlier (layer, head) becomes sparse first.
SparseModelConfig config_from_scores(const torch::Tensor& score, double sparsity,
                                     const SparseHeadConfig& sparse_head);
struct SparseConfigResult {
  std::vector<std::string> files;  // written paths
  std::string score_source;        // what ranked the heads ("" for moa/minference)
  double sparse_fraction = 0.0;    // fraction of (KV or query) heads made sparse, if binarised
};

// Writes the format's files into `out_dir` (created if missing); each file through a temporary
// name. InvalidInput when the evidence lacks what the format needs (moa, minference: stats).
SparseConfigResult write_sparse_configs(const HeadEvidence& evidence, SparseFormat format,
                                        const std::string& out_dir,
                                        const SparseConfigOptions& options);

}  // namespace headscope
