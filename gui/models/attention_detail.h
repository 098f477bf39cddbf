// What the attention view draws over a zoomed-in region of a long run: the exact probabilities
// of the region's queries and keys read from hook_pattern (only the chunks that box touches), or,
// for runs recorded with statistics only, the attention statistics' top-k lists of the region's
// queries. Bounded by the region, never by the run: a 2,048 x 2,048 box is 16 MB at 128K tokens.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "gui/models/attention_map.h"
#include "gui/models/open_file.h"

namespace headscope::gui {

// Positions [begin, end) of the queries and of the keys.
struct PositionBox {
  int64_t query_begin = 0, query_end = 0;
  int64_t key_begin = 0, key_end = 0;

  int64_t queries() const { return query_end - query_begin; }
  int64_t keys() const { return key_end - key_begin; }
  bool contains(const PositionBox& o) const {
    return o.query_begin >= query_begin && o.query_end <= query_end && o.key_begin >= key_begin &&
           o.key_end <= key_end;
  }
};

struct DetailRequest {
  AttentionRequest head;  // run, layer, head
  PositionBox box;
  // Longest side of a box read exactly from hook_pattern; larger boxes use the top-k lists.
  int64_t exact_limit = 2048;
};

struct AttentionDetail {
  enum class Kind { kExact, kTopK };
  DetailRequest request;
  Kind kind = Kind::kExact;
  std::string dataset;  // hook_pattern, or attention_stats/topk_prob
  PositionBox box;      // as requested, clamped to the run
  // kExact: box.queries() x box.keys() probabilities, row-major.
  std::vector<float> values;
  // kTopK: box.queries() x k lists, each query's keys in the file's order (highest first).
  int64_t k = 0;
  std::vector<int32_t> topk_index;
  std::vector<float> topk_prob;

  // The probability of (query, key) positions inside the box; NaN where it is not known (a key
  // outside a query's top-k list).
  float value(int64_t query, int64_t key) const;
};

// Takes hdf5_lock(). InvalidInput naming the file and run when the run has neither the layer's
// hook_pattern (within exact_limit) nor top-k lists.
AttentionDetail read_attention_detail(const OpenFile& file, const DetailRequest& request);

// One query's probabilities over every key (the query row of the map), as the token view
// colours the run's text: exact from hook_pattern, else the top-k lists' values with 0 for the
// other keys. `source` says which was read.
struct QueryRow {
  AttentionRequest head;
  int64_t query = 0;
  std::string source;
  bool exact = false;
  std::vector<float> values;  // one per position
};
QueryRow read_query_row(const OpenFile& file, const AttentionRequest& head, int64_t query);

// The largest entries of one query row and of one key column: what the slice panel lists.
struct SliceEntry {
  int64_t position = 0;
  float value = 0;
};
struct AttentionSlices {
  AttentionRequest head;
  int64_t query = 0, key = 0;
  std::string row_source, column_source;
  std::vector<SliceEntry> row_top;     // the keys the query reads most, highest first
  std::vector<SliceEntry> column_top;  // the queries that read the key most, highest first
};
// Columns read from hook_pattern cover at most `column_limit` queries from the key on (a column
// crosses every chunk row of the map); from the top-k lists, every query.
AttentionSlices read_attention_slices(const OpenFile& file, const AttentionRequest& head,
                                      int64_t query, int64_t key, int64_t top = 20,
                                      int64_t column_limit = 8192);

}  // namespace headscope::gui
