// The sparsity SNR view (/analyses/sparsity_snr, docs/SNR.md): a layer x head grid of the
// largest (or smallest) block size at which a head's router recall@k reaches a target (spin
// box), a click selecting the head for every view; for the selected head, SNR against block
// size (theory and measured) and recall@k against block size (measured and predicted). Read on
// a worker thread, once per file.
#pragma once

#include <memory>

#include "gui/models/latest_request.h"
#include "gui/models/snr_curves.h"
#include "gui/models/workspace.h"
#include "gui/views/explorer_view.h"

class QComboBox;
class QDoubleSpinBox;
class QLabel;

namespace headscope::gui {

class HeadGridCanvas;
class LineChartCanvas;

class SnrView : public ExplorerView {
  Q_OBJECT

 public:
  explicit SnrView(Workspace& workspace, QWidget* parent = nullptr);

  QString message() const;
  std::shared_ptr<const SnrCurves> shown() const { return shown_; }
  // The grid as drawn (null before a file is read).
  std::shared_ptr<const HeadValues> grid_values() const { return grid_values_; }
  HeadGridCanvas* grid() const { return grid_; }
  LineChartCanvas* snr_chart() const { return snr_chart_; }
  LineChartCanvas* recall_chart() const { return recall_chart_; }
  // The controls: a target in [0, 1], the index of k in shown()->topk, largest or smallest.
  void set_target(double target);
  bool choose_k(int index);
  void choose_block(BlockChoice choice);
  bool busy() const override { return request_.busy(); }
  // The selected head's curves: block size, SNR theory and measured, recall@k and its
  // prediction.
  QString csv() const override;

 private:
  void follow_selection(const HeadSelection& selection);
  void show(const LatestRequest<SnrCurves>::Outcome& outcome);
  void show_grid();
  void show_head();
  bool head_in_file() const;

  Workspace& workspace_;
  LatestRequest<SnrCurves> request_{this};
  int shown_file_ = -1;
  std::shared_ptr<const SnrCurves> shown_;
  std::shared_ptr<const HeadValues> grid_values_;
  QLabel* message_;
  QComboBox* k_;
  QDoubleSpinBox* target_;
  QComboBox* block_;
  HeadGridCanvas* grid_;
  LineChartCanvas* snr_chart_;
  LineChartCanvas* recall_chart_;
};

}  // namespace headscope::gui
