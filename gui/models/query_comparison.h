// The selected head's attention statistic at every query in the two runs a comparison shows
// (the compare view's chart): when A and B are run statistics ("run 0: mean entropy"), the
// per-query values whose means the grids show, and A - B query by query.
#pragma once

#include <cstdint>
#include <vector>

#include "gui/models/head_values.h"
#include "gui/models/open_file.h"
#include "gui/models/token_values.h"

namespace headscope::gui {

struct QueryComparison {
  TokenValues a, b;                // each run's values of its statistic, one per query
  std::vector<double> difference;  // a - b at the queries both runs have (the shorter's)
};

// Whether a quantity has per-query values (an attention statistic of a run).
bool has_query_values(const HeadQuantity& quantity);

// Reads both (read_token_values; takes hdf5_lock()). InvalidInput naming the quantity when
// either is not a run statistic, or as read_token_values says.
QueryComparison compare_head_queries(const OpenFile& file_a, const HeadQuantity& a,
                                     const OpenFile& file_b, const HeadQuantity& b, int64_t layer,
                                     int64_t head);

}  // namespace headscope::gui
