// The attention compare view: the selected head's attention in two runs (of one file or two:
// dense against sparse-config runs, ablated against intact, two models of one family) side by
// side and their difference A - B on a diverging scale, with hover values. Full maps when both
// runs have the layer's hook_pattern and are short, else block maps
// (gui/models/attention_comparison.h). Zooming or panning one map moves the other two. Read on
// a worker thread, and only while the view is shown: it reads two maps, the heaviest read of
// any view (a long pattern's block sums), for a tab most selections never look at.
#pragma once

#include <memory>
#include <vector>

#include "gui/models/attention_comparison.h"
#include "gui/models/latest_request.h"
#include "gui/models/workspace.h"
#include "gui/views/explorer_view.h"

class QLabel;

namespace headscope::gui {

class AbChoice;
class AttentionCanvas;

class AttentionCompareView : public ExplorerView {
  Q_OBJECT

 public:
  explicit AttentionCompareView(Workspace& workspace, QWidget* parent = nullptr);

  QString message() const;
  // "file: run N" of every open file's runs, the choices of A and B.
  QStringList choices() const;
  // Chooses A and B by their labels; false when either is absent.
  bool choose(const QString& a, const QString& b);
  std::shared_ptr<const AttentionComparison> shown() const { return shown_; }
  AttentionCanvas* canvas_a() const { return canvases_[0]; }
  AttentionCanvas* canvas_b() const { return canvases_[1]; }
  AttentionCanvas* canvas_difference() const { return canvases_[2]; }
  bool busy() const override { return request_.busy(); }
  // Every visible cell's A, B and A - B (its first query and key position).
  QString csv() const override;

 protected:
  void showEvent(QShowEvent* event) override;

 private:
  void add_runs(int file);
  void request();
  void show(const LatestRequest<AttentionComparison>::Outcome& outcome);
  void follow_view(int from);

  Workspace& workspace_;
  LatestRequest<AttentionComparison> request_{this};
  std::vector<RunRef> runs_;  // the choices, in the combo boxes' order
  std::shared_ptr<const AttentionComparison> shown_;
  int64_t layer_ = -1, head_ = -1;  // the head shown_ (or its read) is of
  bool following_ = false;          // while one canvas's view is copied to the others
  QLabel* message_;
  AbChoice* choice_;
  AttentionCanvas* canvases_[3];
};

}  // namespace headscope::gui
