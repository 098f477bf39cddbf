// Faithfulness of a circuit of heads, whatever method chose them (activation patching, path
// patching, EAP's head scores), measured on EAP's graph (analyses/circuits/eap_graph.h) so that
// every method's circuit is judged by one yardstick: the clean prompt run with every edge out of
// a head outside the circuit replaced (EapOptions::ablation: by its corrupted value, its mean,
// or zero) and every other edge clean — the node circuits of the EAP-IG library. Removing every
// edge out of head h is corrupting h's output everywhere downstream, so with all heads but h kept
// the faithfulness is h's activation-patching score of hook_z in the noise direction.
#pragma once

#include <cstdint>
#include <vector>

#include "analyses/circuits/edge_attribution.h"

namespace headscope {

// Edge indices of `graph` with the edges out of heads outside `selected` ([layer * H + head])
// last, each part in graph order; *kept is the size of the first part.
std::vector<int64_t> head_circuit_ranking(const EapGraph& graph,
                                          const std::vector<uint8_t>& selected, int64_t* kept);

// The circuit `selected` run on `pairs`; normalised with the mean metrics of the clean and
// corrupted runs of the same pairs (EapResult or PatchingResult clean_mean, corrupted_mean).
FaithfulnessPoint head_circuit_faithfulness(HookedModel& model, const EapGraph& graph,
                                            const std::vector<PatchingPair>& pairs,
                                            const std::vector<uint8_t>& selected,
                                            const EapOptions& options, double clean_mean,
                                            double corrupted_mean);

}  // namespace headscope
