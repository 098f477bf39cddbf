// The block-routing signal-to-noise estimator of one query (docs/SNR.md): how far the keys it
// should find stand out of the other keys' raw scores, and whether a MoBA-style router, ranking
// key blocks by q · mean(K_block), would pick the block holding them.
//
//   KeyLevel k = key_level(scores, {needle});                // Δμ and σ² of this query
//   BlockLevel b = block_level(scores, {needle}, {64, 1});   // the router's view at B = 64
//
// Scores are the query's scaled dot products with its causal keys 0..p (p = the query's own
// position, scores.size() == p + 1), as the attention softmax sees them.
#pragma once

#include <cstdint>
#include <vector>

namespace headscope {

// Δμ and σ² over single keys: `relevant` against every other causal key (the noise keys).
struct KeyLevel {
  bool valid = false;      // at least one relevant key and two noise keys
  double delta_mu = 0.0;   // mean(relevant scores) - mean(noise scores)
  double noise_var = 0.0;  // sample variance (n - 1) of the noise scores
};

// `relevant`: positions in [0, scores.size()), sorted, distinct.
KeyLevel key_level(const std::vector<double>& scores, const std::vector<int64_t>& relevant);

struct BlockRouting {
  int64_t block_size = 64;  // B
  int64_t key_conv = 1;     // W: keys smoothed by a causal mean over W keys before pooling
};

// The router's view of one query. Blocks are [0, B), [B, 2B), ...; the query at position p sits
// in block c = p / B, which MoBA always attends: it is not routed and takes no part in the
// ranking. The routed blocks 0..c-1 are always full. With key convolution W the smoothed key
// j is the mean of keys max(0, j - W + 1)..j, so a block score is q · mean(smoothed keys);
// a relevant key r then also lifts keys r..r+W-1, and a block holding any of those is a
// relevant block. Several relevant blocks: the router succeeds when it picks any of them, so
// the best-scoring one is "the relevant block" and the others are left out of the ranking; the
// noise blocks are the routed blocks holding none.
struct BlockLevel {
  // Routed: some relevant block lies before the current block and at least one noise block
  // exists. False also when every relevant key is in the current block (attended anyway).
  bool routed = false;
  bool in_current_block = false;  // every relevant key lies in the query's own block
  double delta_mu_eff = 0.0;      // relevant block score - mean(noise block scores)
  bool has_block_var = false;     // two or more noise blocks
  double block_var = 0.0;         // sample variance (n - 1) of the noise block scores
  int64_t noise_blocks = 0;       // noise blocks ranked against the relevant one
  int64_t above = 0;              // noise blocks scoring strictly above it; rank = 1 + above
};

BlockLevel block_level(const std::vector<double>& scores, const std::vector<int64_t>& relevant,
                       const BlockRouting& routing);

// Whether block_level can route a query at `position` with these relevant keys: it depends on
// positions only, so a command checks its block sizes against its samples before the model runs.
bool routable(int64_t position, const std::vector<int64_t>& relevant, const BlockRouting& routing);

}  // namespace headscope
