// The attention view of the selected head and run: the full query x key map read from
// hook_pattern for runs of up to AttentionRequest::full_map_limit tokens, otherwise the
// attention statistics' block_mass, refined when zoomed in (exact rows from hook_pattern, else
// the top-k lists; gui/models/attention_detail.h). Beside it the picked query's row and key's
// column (their largest entries, with token text) and jumping to a token by position or text.
// Every read runs on a worker thread and covers only what is shown.
#pragma once

#include <cstdint>
#include <memory>

#include <QtCore/QTimer>

#include "gui/models/attention_detail.h"
#include "gui/models/attention_map.h"
#include "gui/models/latest_request.h"
#include "gui/models/workspace.h"
#include "gui/views/explorer_view.h"

class QLabel;
class QLineEdit;
class QSpinBox;
class QTableView;

namespace headscope::gui {

class AttentionCanvas;
class SliceModel;

struct AttentionViewLimits {
  int64_t full_map = 2048;     // longest run whose whole map is read
  int64_t refine = 2048;       // largest visible side (positions) that is refined
  int64_t pattern_block = 64;  // blocks of a longer run's hook_pattern summed without block_mass
};

class AttentionView : public ExplorerView {
  Q_OBJECT

 public:
  explicit AttentionView(Workspace& workspace, QWidget* parent = nullptr);

  AttentionCanvas* canvas() const { return canvas_; }
  SliceModel* row_slice() const { return row_model_; }
  SliceModel* column_slice() const { return column_model_; }
  QString message() const;
  QString detail_message() const;
  bool busy() const override;
  QString csv() const override;

  // Takes effect with the next head read.
  void set_limits(const AttentionViewLimits& limits) { limits_ = limits; }
  // Picks (query, key): marks them and lists their slices.
  void pick(int64_t query, int64_t key);
  // Shows the region around a position (as query and key) and picks it.
  void jump_to(int64_t position);
  // Jumps to the first token after the picked query whose text contains `text` (case
  // insensitive), wrapping around; false when no token does.
  bool find_token(const QString& text);

 private:
  void follow_selection(const HeadSelection& selection);
  void show(const LatestRequest<AttentionMap>::Outcome& outcome);
  void refine();
  void show_slices(const LatestRequest<AttentionSlices>::Outcome& outcome);

  Workspace& workspace_;
  AttentionViewLimits limits_;
  LatestRequest<AttentionMap> request_{this};
  LatestRequest<AttentionDetail> detail_request_{this};
  LatestRequest<AttentionSlices> slice_request_{this};
  std::shared_ptr<const OpenFile> file_;
  QTimer refine_timer_;  // a zoom or pan settles before its region is read
  int64_t picked_query_ = -1;
  QSpinBox* run_;
  QLabel* message_;
  QLabel* detail_message_;
  AttentionCanvas* canvas_;
  QSpinBox* jump_;
  QLineEdit* find_;
  QLabel* slice_message_;
  SliceModel* row_model_;
  SliceModel* column_model_;
  QTableView* row_table_;
  QTableView* column_table_;
};

}  // namespace headscope::gui
