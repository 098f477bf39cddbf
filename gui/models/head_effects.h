// The ablation and importance analyses of a file as the ablation view shows them
// (docs/ABLATION.md): the per-head datasets of /analyses/head_importance and /analyses/ablation,
// the pruning curve (metric against heads removed) and the ablation's scores before and after.
// Small (a few [layer, head] grids and curves), read whole on a worker thread.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "gui/models/head_values.h"
#include "gui/models/open_file.h"

namespace headscope::gui {

inline constexpr char kImportancePath[] = "/analyses/head_importance";
inline constexpr char kAblationPath[] = "/analyses/ablation";

struct PruningCurve {
  std::string metric;                // the group's `metric` attribute ("" when absent)
  std::optional<double> threshold;   // the fraction of the unpruned metric pruning keeps
  std::optional<double> unpruned;    // `unpruned_metric`
  std::vector<double> heads_pruned;  // curve_heads_pruned [S]
  std::vector<double> value;         // curve_metric [S]
};

// One score of the ablation group, from its `baseline_<name>` and `ablated_<name>` attributes.
struct ScoreChange {
  std::string name;  // "accuracy", "logit_diff", ...
  double baseline = 0, ablated = 0;
};

struct AblationSummary {
  std::string method, heads;  // attributes: "zero", "0.1,1.2"
  HeadValues mask;            // 1 for the ablated heads
  std::vector<ScoreChange> scores;
};

struct HeadEffects {
  std::vector<HeadValues> quantities;  // every per-head dataset of both groups, importance first
  std::optional<PruningCurve> curve;
  std::optional<AblationSummary> ablation;
};

// Metadata only; takes hdf5_lock().
bool has_head_effects(const OpenFile& file);
// Takes hdf5_lock(). IoError or InvalidInput naming the file and dataset when one is missing or
// of another shape than docs/ABLATION.md gives.
HeadEffects read_head_effects(const OpenFile& file);

}  // namespace headscope::gui
