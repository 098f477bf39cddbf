#include "gui/models/query_comparison.h"

#include <algorithm>

#include "core/base/error.h"

namespace headscope::gui {
namespace {

TokenValues read_queries(const OpenFile& file, const HeadQuantity& quantity, int64_t layer,
                         int64_t head) {
  if (!has_query_values(quantity)) {
    throw InvalidInput(file.path() + ": " + quantity.label +
                       " has no per-query values (only a run's attention statistics do)");
  }
  TokenRequest request;
  request.head = AttentionRequest{quantity.run, layer, head};
  request.statistic = quantity.statistic;
  return read_token_values(file, request);
}

}  // namespace

bool has_query_values(const HeadQuantity& quantity) {
  return quantity.source == HeadQuantity::Source::kMeanOverQuery && quantity.run >= 0 &&
         !quantity.statistic.empty();
}

QueryComparison compare_head_queries(const OpenFile& file_a, const HeadQuantity& a,
                                     const OpenFile& file_b, const HeadQuantity& b, int64_t layer,
                                     int64_t head) {
  QueryComparison out;
  out.a = read_queries(file_a, a, layer, head);
  out.b = read_queries(file_b, b, layer, head);
  const size_t both = std::min(out.a.values.size(), out.b.values.size());
  for (size_t q = 0; q < both; ++q) {
    out.difference.push_back(static_cast<double>(out.a.values[q]) -
                             static_cast<double>(out.b.values[q]));
  }
  return out;
}

}  // namespace headscope::gui
