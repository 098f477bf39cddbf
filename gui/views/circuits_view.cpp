#include "gui/views/circuits_view.h"

#include <QtGui/QStandardItemModel>
#include <QtWidgets/QComboBox>
#include <QtWidgets/QHBoxLayout>
#include <QtWidgets/QHeaderView>
#include <QtWidgets/QLabel>
#include <QtWidgets/QSpinBox>
#include <QtWidgets/QSplitter>
#include <QtWidgets/QTableView>
#include <QtWidgets/QVBoxLayout>

#include "core/base/error.h"
#include "gui/models/circuit_graph.h"
#include "gui/views/circuit_graph_canvas.h"
#include "gui/views/line_chart_canvas.h"
#include "gui/views/row_table.h"

namespace headscope::gui {
namespace {

// The graph's edges until the user asks for another number: readable on a 12-layer model.
constexpr int kGraphEdges = 40;

QString text(const std::string& s) {
  return QString::fromStdString(s);
}

}  // namespace

CircuitsView::CircuitsView(Workspace& workspace, QWidget* parent)
    : ExplorerView(parent),
      workspace_(workspace),
      message_(new QLabel(this)),
      circuits_(new QStandardItemModel(this)),
      edges_(new QStandardItemModel(this)),
      overlap_(new QStandardItemModel(this)),
      circuit_table_(make_row_table(circuits_, this)),
      measure_(new QComboBox(this)),
      graph_message_(new QLabel(this)),
      top_n_(new QSpinBox(this)),
      graph_(new CircuitGraphCanvas(this)),
      faithfulness_(new LineChartCanvas(this)) {
  message_->setWordWrap(true);
  message_->setText(
      tr("Open a file with circuits (headscope patch, path-patch, eap) or their "
         "overlap (headscope overlap)."));
  auto* edge_table = make_row_table(edges_, this);
  auto* overlap_table = make_row_table(overlap_, this);
  overlap_table->verticalHeader()->show();  // circuit_a's labels
  overlap_table->horizontalHeader()->setStretchLastSection(false);
  auto* overlap_box = new QWidget(this);
  auto* measure_row = new QHBoxLayout;
  measure_row->addWidget(new QLabel(tr("Overlap measure:"), overlap_box));
  measure_row->addWidget(measure_, 1);
  auto* overlap_layout = new QVBoxLayout(overlap_box);
  overlap_layout->setContentsMargins(0, 0, 0, 0);
  overlap_layout->addLayout(measure_row);
  overlap_layout->addWidget(overlap_table, 1);
  auto* top = new QSplitter(this);
  top->addWidget(circuit_table_);
  top->addWidget(edge_table);
  top_n_->setRange(1, 100000);
  top_n_->setValue(kGraphEdges);
  auto* graph_row = new QHBoxLayout;
  graph_row->addWidget(new QLabel(tr("Graph: strongest edges"), this));
  graph_row->addWidget(top_n_);
  graph_row->addWidget(graph_message_, 1);
  auto* graph_box = new QWidget(this);
  auto* graph_layout = new QVBoxLayout(graph_box);
  graph_layout->setContentsMargins(0, 0, 0, 0);
  graph_layout->addLayout(graph_row);
  graph_layout->addWidget(graph_, 1);
  auto* middle = new QSplitter(this);
  middle->addWidget(graph_box);
  middle->addWidget(faithfulness_);
  middle->setStretchFactor(0, 2);
  middle->setStretchFactor(1, 1);
  auto* splitter = new QSplitter(Qt::Vertical, this);
  splitter->addWidget(top);
  splitter->addWidget(middle);
  splitter->addWidget(overlap_box);
  splitter->setStretchFactor(0, 2);
  splitter->setStretchFactor(1, 3);
  splitter->setStretchFactor(2, 1);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(message_);
  layout->addWidget(splitter, 1);
  connect(circuit_table_, &QTableView::clicked, this,
          [this](const QModelIndex& index) { choose_circuit(index.row()); });
  connect(measure_, qOverload<int>(&QComboBox::currentIndexChanged), this,
          [this](int) { show_overlap(); });
  connect(top_n_, qOverload<int>(&QSpinBox::valueChanged), this, [this](int) { show_graph(); });
  graph_->on_click([this](HeadCell cell) { workspace_.select_head(cell.layer, cell.head); });
  connect(&workspace_, &Workspace::selection_changed, this,
          [this](const HeadSelection& selection) { follow_selection(selection); });
  follow_selection(workspace_.selection());
}

QString CircuitsView::message() const {
  return message_->text();
}

QString CircuitsView::graph_message() const {
  return graph_message_->text();
}

void CircuitsView::set_graph_edges(int top_n) {
  top_n_->setValue(top_n);
}

void CircuitsView::follow_selection(const HeadSelection& selection) {
  graph_->set_selected(
      HeadCell{static_cast<int>(selection.layer), static_cast<int>(selection.head)});
  const int file_index = selection.file;
  if (file_index < 0 || file_index == shown_file_) return;
  shown_file_ = file_index;
  shown_ = nullptr;
  request_.cancel();
  circuit_ = -1;
  show_graph();
  show_faithfulness();
  circuits_->clear();
  edges_->clear();
  overlap_->clear();
  measure_->clear();
  std::shared_ptr<const OpenFile> file = workspace_.files()[static_cast<size_t>(file_index)];
  if (!has_circuit_tables(*file)) {
    message_->setText(tr("%1 has no circuits and no circuit overlap (/analyses/circuits, "
                         "/analyses/circuit_overlap).")
                          .arg(text(file->name())));
    return;
  }
  message_->setText(tr("Reading the circuits ..."));
  request_.start([file] { return read_circuit_tables(*file); },
                 [this](const LatestRequest<CircuitTables>::Outcome& outcome) { show(outcome); });
}

void CircuitsView::show(const LatestRequest<CircuitTables>::Outcome& outcome) {
  shown_ = outcome.value;
  if (!shown_) {
    message_->setText(outcome.error);
    return;
  }
  circuits_->setHorizontalHeaderLabels({tr("circuit"), tr("method"), tr("heads"), tr("edges")});
  for (const CircuitEdges& circuit : shown_->circuits) {
    circuits_->appendRow({new QStandardItem(text(circuit.name)),
                          new QStandardItem(text(circuit.method)),
                          number_item(static_cast<double>(circuit.selected_heads)),
                          number_item(static_cast<double>(circuit.score.size()))});
  }
  {
    const QSignalBlocker block(measure_);
    if (shown_->overlap) {
      for (const std::string& measure : shown_->overlap->measures) measure_->addItem(text(measure));
    }
  }
  show_overlap();
  if (!shown_->circuits.empty()) choose_circuit(0);
  message_->setText(tr("%1 circuits%2. Click a circuit to list its edges.")
                        .arg(shown_->circuits.size())
                        .arg(shown_->overlap
                                 ? tr(", overlap of %1").arg(shown_->overlap->labels.size())
                                 : QString()));
}

void CircuitsView::choose_circuit(int index) {
  if (!shown_ || index < 0 || index >= static_cast<int>(shown_->circuits.size())) return;
  const CircuitEdges& circuit = shown_->circuits[static_cast<size_t>(index)];
  circuit_table_->selectRow(index);
  circuit_ = index;
  edges_->clear();
  edges_->setHorizontalHeaderLabels({tr("sender"), tr("receiver"), tr("score")});
  // Strongest first, whatever the sign: the order the methods rank edges in.
  for (size_t i : edges_by_strength(circuit)) {
    edges_->appendRow({new QStandardItem(text(circuit.sender[i])),
                       new QStandardItem(text(circuit.receiver[i])),
                       number_item(circuit.score[i])});
  }
  show_graph();
  show_faithfulness();
}

void CircuitsView::show_faithfulness() {
  if (!shown_ || circuit_ < 0 ||
      shown_->circuits[static_cast<size_t>(circuit_)].faithfulness_edges.empty()) {
    faithfulness_->set_chart({});
    return;
  }
  const CircuitEdges& circuit = shown_->circuits[static_cast<size_t>(circuit_)];
  LineChart chart;
  chart.title = tr("Faithfulness of %1").arg(text(circuit.name));
  chart.x_label = tr("edges kept");
  // The points are spread over orders of magnitude (1, 2, 5, ... all edges); the point of no
  // edges, left out on this axis, is the corrupted run's 0 that a reference line shows.
  chart.log_x = true;
  chart.y_label = tr("faithfulness");
  // No legend: the title names the one series.
  ChartSeries curve{{}, QColor(31, 119, 180), {}, circuit.faithfulness_score};
  curve.x.assign(circuit.faithfulness_edges.begin(), circuit.faithfulness_edges.end());
  chart.series.push_back(std::move(curve));
  // The normalisation's ends: the clean run is 1, the corrupted run 0.
  chart.references = {{tr("clean"), 1.0}, {tr("corrupted"), 0.0}};
  faithfulness_->set_chart(std::move(chart));
}

void CircuitsView::show_graph() {
  if (!shown_ || circuit_ < 0) {
    graph_->set_graph(nullptr);
    graph_message_->clear();
    return;
  }
  const CircuitEdges& circuit = shown_->circuits[static_cast<size_t>(circuit_)];
  try {
    graph_->set_graph(std::make_shared<const CircuitGraph>(
        circuit_graph(circuit, static_cast<size_t>(top_n_->value()))));
  } catch (const Error& e) {
    graph_->set_graph(nullptr);
    graph_message_->setText(text(e.what()));
    return;
  }
  graph_message_->setText(
      circuit.score.empty()
          ? tr("%1 scores heads only (no edges): its selected heads.").arg(text(circuit.name))
          : tr("hover an edge for its score, click a head to select it"));
}

bool CircuitsView::choose_measure(const QString& measure) {
  const int index = measure_->findText(measure);
  if (index < 0) return false;
  measure_->setCurrentIndex(index);
  return true;
}

void CircuitsView::show_overlap() {
  overlap_->clear();
  if (!shown_ || !shown_->overlap || measure_->currentIndex() < 0) return;
  const CircuitOverlap& overlap = *shown_->overlap;
  const std::vector<double>& values = overlap.values[static_cast<size_t>(measure_->currentIndex())];
  QStringList labels;
  for (const std::string& label : overlap.labels) labels << text(label);
  overlap_->setHorizontalHeaderLabels(labels);
  overlap_->setVerticalHeaderLabels(labels);
  const size_t c = overlap.labels.size();
  for (size_t a = 0; a < c; ++a) {
    for (size_t b = 0; b < c; ++b) {
      overlap_->setItem(static_cast<int>(a), static_cast<int>(b), number_item(values[a * c + b]));
    }
  }
}

QString CircuitsView::csv() const {
  if (edges_->rowCount() == 0) return {};
  QString out = "sender,receiver,score\n";
  for (int r = 0; r < edges_->rowCount(); ++r) {
    out += QStringLiteral("\"%1\",\"%2\",%3\n")
               .arg(edges_->item(r, 0)->text(), edges_->item(r, 1)->text(),
                    QString::number(edges_->item(r, 2)->data(Qt::DisplayRole).toDouble(), 'g', 17));
  }
  return out;
}

}  // namespace headscope::gui
