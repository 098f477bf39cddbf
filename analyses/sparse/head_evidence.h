// What sparse configs are derived from: per-head retrieval scores
// (kRetrievalScoreDataset of analyses/retrieval/retrieval_file.h, written by `headscope retrieval`)
// and/or the attention statistics of recorded runs (/runs/<i>/attention_stats, written by
// `headscope record --attention stats`). One HDF5 file may hold either or both.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <torch/types.h>

#include "analyses/retrieval/retrieval_file.h"

namespace headscope {

// One run's statistics, as tensors (float32 unless noted).
struct StatsRun {
  int64_t run = 0;  // index i of /runs/<i>
  int64_t length = 0, block_size = 0, sink = 0, window = 0, k = 0;
  torch::Tensor sink_mass, local_mass;    // [L, H, T]
  torch::Tensor topk_index;               // int64 [L, H, T, k]; -1 in unused slots
  torch::Tensor topk_prob;                // [L, H, T, k]
  std::vector<torch::Tensor> block_mass;  // per layer [H, nb, nb]
};

struct HeadEvidence {
  std::string path;
  int64_t n_layers = 0, n_heads = 0, n_kv_heads = 0;
  std::optional<torch::Tensor> retrieval_score;  // float64 [L, H]
  std::vector<StatsRun> stats;                   // runs that have attention_stats
};

// Reads whatever of the two the file holds. IoError when it cannot be opened; InvalidInput
// when it holds neither, or a score whose shape disagrees with the root attributes.
// `max_runs` bounds how many statistics runs are loaded (0: all).
HeadEvidence read_head_evidence(const std::string& path, int64_t max_runs = 0);

}  // namespace headscope
