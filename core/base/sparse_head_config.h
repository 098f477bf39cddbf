// One attention head's sparse pattern: full, streaming (attention sinks + a local window) or
// block-sparse (MoBA-style top-k key blocks). Plain data: kernels/sparse_attention.h executes it,
// core/checkpoint/sparse_model_config.h writes and reads it, the explorer shows it.
#pragma once

#include <cstdint>

namespace headscope {

enum class SparseKind { kFull, kStreaming, kBlockSparse };

struct SparseHeadConfig {
  SparseKind kind = SparseKind::kFull;
  // kStreaming: query i keeps key j <= i when j < sink or j > i - window.
  int64_t sink = 0;
  int64_t window = 0;
  // kBlockSparse: query block a = i / block_size keeps its own block (causally) and the
  // topk_blocks earlier blocks b < a with the highest mean(q of block a) . mean(k of block b)
  // (all earlier blocks when a <= topk_blocks; ties keep the lower b). Block means average only
  // the positions that exist (the last block may be short).
  int64_t block_size = 64;
  int64_t topk_blocks = 0;

  static SparseHeadConfig full() { return {}; }
  static SparseHeadConfig streaming(int64_t sink, int64_t window) {
    SparseHeadConfig c;
    c.kind = SparseKind::kStreaming, c.sink = sink, c.window = window;
    return c;
  }
  static SparseHeadConfig block_sparse(int64_t block_size, int64_t topk_blocks) {
    SparseHeadConfig c;
    c.kind = SparseKind::kBlockSparse, c.block_size = block_size, c.topk_blocks = topk_blocks;
    return c;
  }
};

}  // namespace headscope
