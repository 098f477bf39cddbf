// How much of a head's attention a candidate pattern keeps, estimated from recorded statistics
// (no T x T map): exact on each query's recorded top-k entries; the rest of the mass (block_mass
// minus those entries) is taken as spread evenly over the causal entries of each (query block,
// key block) tile.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include <torch/types.h>

#include "analyses/sparse/head_evidence.h"

namespace headscope {

// Rows [start, start + rows) of a pattern's kept-entry mask over `keys` keys: bool [rows, keys]
// (entries above the diagonal are ignored).
using MaskRows = std::function<torch::Tensor(int64_t start, int64_t rows, int64_t keys)>;

MaskRows streaming_rows(int64_t sink, int64_t window);
// `selected`: bool [nb, nb], query block a reads key block b.
MaskRows block_rows(torch::Tensor selected, int64_t block_size);
// Key columns (bool [T]) plus diagonals at offsets i - j (bool [T]).
MaskRows vertical_slash_rows(torch::Tensor columns, torch::Tensor offsets);

// The oracle block-sparse selection of one head in one run: own block plus the topk earlier
// key blocks of highest recorded block mass (lower block on ties); bool [nb, nb].
torch::Tensor top_mass_blocks(const StatsRun& run, int64_t layer, int64_t head, int64_t topk);

// The `vertical` key columns and `slash` diagonal offsets holding the most recorded top-k mass
// of one head: bool [T] each.
std::pair<torch::Tensor, torch::Tensor> top_vertical_slash(const StatsRun& run, int64_t layer,
                                                           int64_t head, int64_t vertical,
                                                           int64_t slash);

// Estimated mean over queries of the attention mass the pattern keeps, in [0, 1]; over the
// last `tail` fraction of the queries only (widened to whole blocks) when tail < 1.
double estimated_capture(const StatsRun& run, int64_t layer, int64_t head, const MaskRows& mask,
                         double tail = 1.0);

}  // namespace headscope
