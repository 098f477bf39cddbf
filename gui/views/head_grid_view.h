// The head grid: a layer x head heatmap of any per-head quantity of the open files (chosen in a
// combo box), with a sortable rank table beside it. A click on a cell or a table row selects
// that head for every view. Values are read on a worker thread.
#pragma once

#include <memory>
#include <vector>

#include "gui/models/head_values.h"
#include "gui/models/latest_request.h"
#include "gui/models/workspace.h"
#include "gui/views/explorer_view.h"

class QComboBox;
class QLabel;
class QSortFilterProxyModel;
class QTableView;

namespace headscope::gui {

class HeadGridCanvas;
class HeadRankModel;

class HeadGridView : public ExplorerView {
  Q_OBJECT

 public:
  explicit HeadGridView(Workspace& workspace, QWidget* parent = nullptr);

  // The quantities on offer, as the combo box lists them.
  QStringList quantity_labels() const;
  // Shows the first quantity whose label contains `text`; false when none does.
  bool choose_quantity(const QString& text);
  // The values shown now (null before the first read completes).
  std::shared_ptr<const HeadValues> shown() const { return shown_; }
  HeadGridCanvas* canvas() const { return canvas_; }
  QTableView* rank_table() const { return table_; }
  // The line above the grid: what is shown, or why nothing is.
  QString message() const;
  bool busy() const override { return request_.busy(); }
  QString csv() const override;

 private:
  struct Entry {
    int file;
    HeadQuantity quantity;
  };
  void add_quantities(int file);
  void request(int entry);
  void show(const LatestRequest<HeadValues>::Outcome& outcome);
  void select_head(int layer, int head);
  void follow_selection(const HeadSelection& selection);

  Workspace& workspace_;
  std::vector<Entry> entries_;
  int shown_entry_ = -1;
  std::shared_ptr<const HeadValues> shown_;
  LatestRequest<HeadValues> request_{this};
  QComboBox* combo_;
  QLabel* message_;
  HeadGridCanvas* canvas_;
  HeadRankModel* rank_model_;
  QSortFilterProxyModel* proxy_;
  QTableView* table_;
};

}  // namespace headscope::gui
