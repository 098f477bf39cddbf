// One head's attention in two runs (of one file or two) and their difference, for the attention
// compare view: the full [query, key] maps when both runs have the layer's hook_pattern and are
// short enough and of one length, else both runs' block maps (block_mass, or block sums of
// hook_pattern; gui/models/attention_map.h) when their blocks agree.
#pragma once

#include <cstdint>
#include <memory>

#include "gui/models/attention_map.h"
#include "gui/models/open_file.h"

namespace headscope::gui {

struct RunRef {
  std::shared_ptr<const OpenFile> file;
  int64_t run = 0;
};

struct AttentionComparison {
  std::shared_ptr<const AttentionMap> a, b;
  // a - b cell by cell, with a's kind, shape, blocks and token text; NaN where either is.
  std::shared_ptr<const AttentionMap> difference;
};

// Reads both maps (read_attention_map; takes hdf5_lock()). InvalidInput naming both runs when
// they cannot be compared cell by cell: full maps of different lengths with no block maps, or
// block maps of different shapes or block sizes.
AttentionComparison compare_attention(const RunRef& a, const RunRef& b, int64_t layer, int64_t head,
                                      int64_t full_map_limit = 2048);

}  // namespace headscope::gui
