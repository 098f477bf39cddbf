// The retrieval-heads view: the heads of the file's retrieval analysis ranked by score (a click
// selects a head for every view) and, for the selected head, every sample's score with the
// sample's length, depth, needle, acceptance and ROUGE-1 recall, sortable. Read on a worker
// thread, once per file.
#pragma once

#include <memory>

#include "gui/models/latest_request.h"
#include "gui/models/retrieval_samples.h"
#include "gui/models/workspace.h"
#include "gui/views/explorer_view.h"

class QLabel;
class QSortFilterProxyModel;
class QTableView;

namespace headscope::gui {

class HeadRankModel;

class RetrievalView : public ExplorerView {
  Q_OBJECT

 public:
  explicit RetrievalView(Workspace& workspace, QWidget* parent = nullptr);

  QString message() const;
  QTableView* head_table() const { return head_table_; }
  QTableView* sample_table() const { return sample_table_; }
  std::shared_ptr<const RetrievalSamples> shown() const { return shown_; }
  bool busy() const override { return request_.busy(); }
  // The selected head's per-sample table.
  QString csv() const override;

 private:
  void follow_selection(const HeadSelection& selection);
  void show(const LatestRequest<RetrievalSamples>::Outcome& outcome);

  Workspace& workspace_;
  LatestRequest<RetrievalSamples> request_{this};
  int shown_file_ = -1;
  std::shared_ptr<const RetrievalSamples> shown_;
  QLabel* message_;
  HeadRankModel* head_model_;
  QSortFilterProxyModel* head_proxy_;
  QTableView* head_table_;
  RetrievalSampleModel* sample_model_;
  QSortFilterProxyModel* sample_proxy_;
  QTableView* sample_table_;
};

}  // namespace headscope::gui
