#include "analyses/circuits/head_circuit_faithfulness.h"

#include "core/base/error.h"

namespace headscope {

std::vector<int64_t> head_circuit_ranking(const EapGraph& graph,
                                          const std::vector<uint8_t>& selected, int64_t* kept) {
  HS_ASSERT(static_cast<int64_t>(selected.size()) == graph.layers() * graph.heads());
  std::vector<int64_t> first, last;
  for (int64_t e = 0; e < graph.edge_count(); ++e) {
    const auto [layer, head] = graph.sender_head(graph.edges()[static_cast<size_t>(e)].sender);
    const bool removed =
        head >= 0 && selected[static_cast<size_t>(layer * graph.heads() + head)] == 0;
    (removed ? last : first).push_back(e);
  }
  *kept = static_cast<int64_t>(first.size());
  first.insert(first.end(), last.begin(), last.end());
  return first;
}

FaithfulnessPoint head_circuit_faithfulness(HookedModel& model, const EapGraph& graph,
                                            const std::vector<PatchingPair>& pairs,
                                            const std::vector<uint8_t>& selected,
                                            const EapOptions& options, double clean_mean,
                                            double corrupted_mean) {
  int64_t kept = 0;
  const std::vector<int64_t> ranking = head_circuit_ranking(graph, selected, &kept);
  return faithfulness_curve(model, graph, pairs, ranking, {kept}, options, clean_mean,
                            corrupted_mean)
      .front();
}

}  // namespace headscope
