// The circuits view: the file's circuits (name, method, selected heads, edges), the chosen
// circuit's edges ranked by |score| and its graph (the strongest edges between heads in layer
// columns; a click on a head selects it for every view) with its faithfulness curve, and the
// overlap analysis's matrix between circuits for a chosen measure (jaccard, containment, p-values,
// ...). Read on a worker thread, once per file.
#pragma once

#include <memory>

#include "gui/models/circuit_tables.h"
#include "gui/models/latest_request.h"
#include "gui/models/workspace.h"
#include "gui/views/explorer_view.h"

class QComboBox;
class QLabel;
class QSpinBox;
class QStandardItemModel;
class QTableView;

namespace headscope::gui {

class CircuitGraphCanvas;
class LineChartCanvas;

class CircuitsView : public ExplorerView {
  Q_OBJECT

 public:
  explicit CircuitsView(Workspace& workspace, QWidget* parent = nullptr);

  QString message() const;
  std::shared_ptr<const CircuitTables> shown() const { return shown_; }
  // Lists this circuit's edges (an index into shown()->circuits) and this overlap measure.
  void choose_circuit(int index);
  bool choose_measure(const QString& measure);
  // How many of the chosen circuit's strongest edges the graph draws.
  void set_graph_edges(int top_n);
  CircuitGraphCanvas* graph() const { return graph_; }
  // Beside the graph: the chosen circuit's faithfulness curve (normalised faithfulness against
  // the number of strongest edges kept), an empty chart when it has none.
  LineChartCanvas* faithfulness_chart() const { return faithfulness_; }
  // Beside the graph: what it shows, or why it shows nothing.
  QString graph_message() const;
  QStandardItemModel* edge_model() const { return edges_; }
  QStandardItemModel* overlap_model() const { return overlap_; }
  bool busy() const override { return request_.busy(); }
  // The chosen circuit's edges.
  QString csv() const override;

 private:
  void follow_selection(const HeadSelection& selection);
  void show_graph();
  void show_faithfulness();
  void show(const LatestRequest<CircuitTables>::Outcome& outcome);
  void show_overlap();

  Workspace& workspace_;
  LatestRequest<CircuitTables> request_{this};
  int shown_file_ = -1;
  int circuit_ = -1;
  std::shared_ptr<const CircuitTables> shown_;
  QLabel* message_;
  QStandardItemModel* circuits_;
  QStandardItemModel* edges_;
  QStandardItemModel* overlap_;
  QTableView* circuit_table_;
  QComboBox* measure_;
  QLabel* graph_message_;
  QSpinBox* top_n_;
  CircuitGraphCanvas* graph_;
  LineChartCanvas* faithfulness_;
};

}  // namespace headscope::gui
