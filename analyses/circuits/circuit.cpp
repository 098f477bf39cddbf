#include "analyses/circuits/circuit.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/base/error.h"
#include "core/store/circuit_schema.h"

namespace headscope {

CircuitSelection CircuitSelection::top(int64_t k, bool abs) {
  CircuitSelection selection;
  selection.rule = kSelectionTopK;
  selection.top_k = k;
  selection.abs = abs;
  return selection;
}

CircuitSelection CircuitSelection::at_least(double threshold, bool abs) {
  CircuitSelection selection;
  selection.rule = kSelectionThreshold;
  selection.threshold = threshold;
  selection.abs = abs;
  return selection;
}

int64_t Circuit::selected_count() const {
  return std::count(selected.begin(), selected.end(), uint8_t{1});
}

std::vector<uint8_t> select_heads(const std::vector<double>& scores,
                                  const CircuitSelection& selection, const std::string& what) {
  const auto key = [&](size_t head) {
    return selection.abs ? std::abs(scores[head]) : scores[head];
  };
  std::vector<size_t> scored;
  for (size_t head = 0; head < scores.size(); ++head) {
    if (!std::isnan(scores[head])) scored.push_back(head);
  }
  std::vector<uint8_t> selected(scores.size(), 0);
  if (selection.rule == kSelectionThreshold) {
    for (size_t head : scored) selected[head] = key(head) >= selection.threshold ? 1 : 0;
    return selected;
  }
  HS_ASSERT(selection.rule == kSelectionTopK && "only top_k and threshold can be applied");
  if (selection.top_k < 1 || selection.top_k > static_cast<int64_t>(scored.size())) {
    throw InvalidInput(what + ": cannot select the top " + std::to_string(selection.top_k) +
                       " heads: " + std::to_string(scored.size()) + " of " +
                       std::to_string(scores.size()) + " heads are scored");
  }
  // Stable: equal scores keep layer-major order, so the selection does not depend on the sort.
  std::stable_sort(scored.begin(), scored.end(),
                   [&](size_t a, size_t b) { return key(a) > key(b); });
  for (int64_t i = 0; i < selection.top_k; ++i) selected[scored[static_cast<size_t>(i)]] = 1;
  return selected;
}

}  // namespace headscope
