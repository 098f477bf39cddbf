// The ablation and importance view: a per-head dataset of /analyses/head_importance or
// /analyses/ablation (importance by default) as bars sorted from the largest, the ablated heads
// in a second colour, hover for a head's value and a click selecting it for every view; the
// pruning curve (metric against heads removed, with the threshold pruning stopped at); the
// ablation's scores before and after. Read on a worker thread, once per file.
#pragma once

#include <memory>
#include <vector>

#include "gui/models/head_effects.h"
#include "gui/models/latest_request.h"
#include "gui/models/workspace.h"
#include "gui/views/explorer_view.h"

class QComboBox;
class QLabel;

namespace headscope::gui {

class BarChartCanvas;
class LineChartCanvas;

class AblationView : public ExplorerView {
  Q_OBJECT

 public:
  explicit AblationView(Workspace& workspace, QWidget* parent = nullptr);

  QString message() const;
  std::shared_ptr<const HeadEffects> shown() const { return shown_; }
  // Shows the quantity of that label ("head_importance/importance_raw"); false when absent.
  bool choose_quantity(const QString& label);
  BarChartCanvas* bars() const { return bars_; }
  LineChartCanvas* curve() const { return curve_; }
  QString summary() const;
  // The bars' heads in their shown order (layer, head).
  const std::vector<std::pair<int64_t, int64_t>>& order() const { return order_; }
  bool busy() const override { return request_.busy(); }
  // The chosen quantity's bars: rank, layer, head, value, ablated.
  QString csv() const override;

 private:
  void follow_selection(const HeadSelection& selection);
  void show(const LatestRequest<HeadEffects>::Outcome& outcome);
  void show_quantity();
  void show_selected();

  Workspace& workspace_;
  LatestRequest<HeadEffects> request_{this};
  int shown_file_ = -1;
  std::shared_ptr<const HeadEffects> shown_;
  std::vector<std::pair<int64_t, int64_t>> order_;
  QLabel* message_;
  QComboBox* quantity_;
  BarChartCanvas* bars_;
  LineChartCanvas* curve_;
  QLabel* summary_;
};

}  // namespace headscope::gui
