// The token view: the selected run's text, each token coloured by the attention that a chosen
// query of the selected head gives it, or by a per-token attention statistic of that head.
// Clicking a token makes it the query. Reads on a worker thread; the text scrolls virtually.
#pragma once

#include <cstdint>
#include <memory>

#include "gui/models/latest_request.h"
#include "gui/models/token_values.h"
#include "gui/models/workspace.h"
#include "gui/views/explorer_view.h"

class QComboBox;
class QLabel;
class QSpinBox;

namespace headscope::gui {

class TokenCanvas;

class TokenView : public ExplorerView {
  Q_OBJECT

 public:
  explicit TokenView(Workspace& workspace, QWidget* parent = nullptr);

  TokenCanvas* canvas() const { return canvas_; }
  QString message() const;
  bool busy() const override { return request_.busy(); }
  QString csv() const override;

  // Colours by the attention of this query (the last one, until chosen).
  void choose_query(int64_t query);
  // Colours by a statistic of token_statistics(); empty: by the query's attention again.
  void choose_statistic(const std::string& statistic);

 private:
  void request();
  void show(const LatestRequest<TokenValues>::Outcome& outcome);

  Workspace& workspace_;
  LatestRequest<TokenValues> request_{this};
  int64_t query_ = -1;  // -1: the run's last token
  QComboBox* colour_by_;
  QSpinBox* query_box_;
  QLabel* message_;
  TokenCanvas* canvas_;
};

}  // namespace headscope::gui
