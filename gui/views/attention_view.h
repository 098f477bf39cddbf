// The attention view of the selected head and run: the full query x key map read from
// hook_pattern for runs of up to AttentionRequest::full_map_limit tokens, otherwise the
// attention statistics' block_mass. Reads on a worker thread; only that head's part is read.
#pragma once

#include <memory>

#include "gui/models/attention_map.h"
#include "gui/models/latest_request.h"
#include "gui/models/workspace.h"
#include "gui/views/explorer_view.h"

class QLabel;
class QSpinBox;

namespace headscope::gui {

class AttentionCanvas;

class AttentionView : public ExplorerView {
  Q_OBJECT

 public:
  explicit AttentionView(Workspace& workspace, QWidget* parent = nullptr);

  AttentionCanvas* canvas() const { return canvas_; }
  QString message() const;
  bool busy() const override { return request_.busy(); }

 private:
  void follow_selection(const HeadSelection& selection);
  void show(const LatestRequest<AttentionMap>::Outcome& outcome);

  Workspace& workspace_;
  LatestRequest<AttentionMap> request_{this};
  QSpinBox* run_;
  QLabel* message_;
  AttentionCanvas* canvas_;
};

}  // namespace headscope::gui
