// The compare view: two per-head quantities side by side and their difference (A - B), each a
// layer x head grid with hover values; A and B are any quantity of any open file (two files:
// dense and sparse-config runs, ablated and intact, two models of one family; or two runs of one
// file). B starts as A's quantity in another file when one has it. A click on any grid selects
// the head for every view. When A and B are run statistics, a chart below shows the selected
// head's statistic at every query in A's run and B's and A - B. Read on worker threads.
#pragma once

#include <memory>
#include <vector>

#include "gui/models/head_difference.h"
#include "gui/models/latest_request.h"
#include "gui/models/query_comparison.h"
#include "gui/models/workspace.h"
#include "gui/views/explorer_view.h"

class QLabel;

namespace headscope::gui {

class AbChoice;
class HeadGridCanvas;
class LineChartCanvas;

class CompareView : public ExplorerView {
  Q_OBJECT

 public:
  explicit CompareView(Workspace& workspace, QWidget* parent = nullptr);

  QString message() const;
  // "file: quantity" of every open file, the choices of A and B.
  QStringList choices() const;
  // Chooses A and B by their labels; false when either is absent.
  bool choose(const QString& a, const QString& b);
  std::shared_ptr<const HeadComparison> shown() const { return shown_; }
  HeadGridCanvas* grid_a() const { return grids_[0]; }
  HeadGridCanvas* grid_b() const { return grids_[1]; }
  HeadGridCanvas* grid_difference() const { return grids_[2]; }
  // The selected head's per-query comparison (null unless A and B are run statistics), and
  // its chart: series A, B and A - B against the query position.
  std::shared_ptr<const QueryComparison> queries_shown() const { return queries_shown_; }
  LineChartCanvas* query_chart() const { return query_chart_; }
  QString query_message() const;
  bool busy() const override { return request_.busy() || query_request_.busy(); }
  // Every head's A, B and A - B.
  QString csv() const override;

 private:
  struct Entry {
    int file;
    HeadQuantity quantity;
  };

  void add_quantities(int file);
  void request();
  void show(const LatestRequest<HeadComparison>::Outcome& outcome);
  void follow_selection(const HeadSelection& selection);
  void request_queries();
  void show_queries(const LatestRequest<QueryComparison>::Outcome& outcome);

  Workspace& workspace_;
  LatestRequest<HeadComparison> request_{this};
  LatestRequest<QueryComparison> query_request_{this};
  std::vector<Entry> entries_;
  std::shared_ptr<const HeadComparison> shown_;
  std::shared_ptr<const QueryComparison> queries_shown_;
  int64_t query_layer_ = -1, query_head_ = -1;  // the head queries_shown_ (or its read) is of
  QLabel* message_;
  AbChoice* choice_;
  HeadGridCanvas* grids_[3];
  QLabel* query_message_;
  LineChartCanvas* query_chart_;
};

}  // namespace headscope::gui
