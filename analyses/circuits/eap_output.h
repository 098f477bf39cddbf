// The circuit an EAP or EAP-IG run finds, written as /analyses/circuits/<name> (layout in
// docs/FORMAT.md): per-head scores, the heads of the top-n edges, every edge by decreasing
// |score|, the faithfulness curve, the pairs' metrics and every parameter as attributes.
#pragma once

#include <string>
#include <vector>

#include "analyses/circuits/circuit.h"
#include "analyses/circuits/edge_attribution.h"
#include "analyses/circuits/patching_output.h"
#include "core/store/analysis_writer.h"

namespace headscope {

// The circuit of `result`: head scores (head_scores), selected heads (heads_of_top_edges of
// top_n), edges in ranking order.
Circuit eap_circuit(const EapGraph& graph, const EapResult& result, const EapOptions& options,
                    const std::string& task);

void write_eap_circuit(const AnalysisTarget& target, const std::string& name, const EapGraph& graph,
                       const EapResult& result, const EapOptions& options,
                       const PatchingSource& source, const PatchingRun& run);

}  // namespace headscope
