// The HDF5 groups of the ablation and importance analyses (layout in docs/ABLATION.md):
// /analyses/ablation and /analyses/head_importance, every parameter as an attribute.
#pragma once

#include <cstdint>
#include <string>

#include "analyses/ablation/head_ablation.h"
#include "analyses/ablation/head_importance.h"
#include "core/store/analysis_writer.h"

namespace headscope {

inline constexpr char kAblationGroup[] = "ablation";
inline constexpr char kHeadImportanceGroup[] = "head_importance";

// How the ablated heads were chosen, recorded beside the result.
struct HeadSelection {
  std::string rule = "list";  // "list", "top" or "random"
  std::string from;           // the score file of "top" and "random" ("" when none)
  std::string dataset;        // the score dataset in it
  int64_t k = 0;              // "top", "random": how many heads
  int64_t exclude_top = 0;    // "random": the top N of the scores excluded from the draw
  uint64_t seed = 0;          // "random": the draw's seed
};

void write_ablation(const AnalysisTarget& target, const AblationResult& result,
                    const AblationOptions& options, const HeadSelection& selection);

void write_importance(const AnalysisTarget& target, const ImportanceResult& result,
                      const ImportanceOptions& options);

}  // namespace headscope
