// What the attention view draws for one head of one run: the full [query, key] map when the run
// has the layer's hook_pattern and is short enough, else the attention statistics' block_mass
// ([query_block, key_block] sums), else block sums of the longer hook_pattern computed a band
// of rows at a time. Only that head's part of a dataset is read, and never a whole long map.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gui/models/open_file.h"

namespace headscope::gui {

struct AttentionRequest {
  int64_t run = 0;
  int64_t layer = 0;
  int64_t head = 0;
  // Longest run whose full map is read (T x T floats: 16 MB at 2,048 tokens).
  int64_t full_map_limit = 2048;
  // Block sums of a pattern longer than full_map_limit without block_mass: blocks of this many
  // positions (the statistics' default), larger when the run would have more than max_blocks
  // a side.
  int64_t pattern_block_size = 64;
  int64_t max_blocks = 2048;
};

struct AttentionMap {
  enum class Kind { kFull, kBlocks };
  AttentionRequest request;
  Kind kind = Kind::kFull;
  std::string dataset;         // the dataset read, relative to the run (block_mass or hook_pattern)
  int64_t positions = 0;       // T
  int64_t block_size = 1;      // positions per cell along each axis
  int64_t rows = 0, cols = 0;  // cells: query (blocks) x key (blocks)
  std::vector<float> values;   // rows x cols, row-major
  std::vector<std::string> token_text;  // one per position when the run has token_text

  float at(int64_t row, int64_t col) const { return values[static_cast<size_t>(row * cols + col)]; }
};

// Takes hdf5_lock(). InvalidInput naming the file, run and what is missing when the run has
// neither a short enough hook_pattern nor block_mass for the layer.
AttentionMap read_attention_map(const OpenFile& file, const AttentionRequest& request);

}  // namespace headscope::gui
