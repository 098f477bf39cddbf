#include "gui/views/snr_view.h"

#include <QtWidgets/QComboBox>
#include <QtWidgets/QDoubleSpinBox>
#include <QtWidgets/QHBoxLayout>
#include <QtWidgets/QLabel>
#include <QtWidgets/QSplitter>
#include <QtWidgets/QVBoxLayout>

#include "gui/views/head_grid_canvas.h"
#include "gui/views/line_chart_canvas.h"

namespace headscope::gui {
namespace {

const QColor kMeasuredColour(40, 110, 170);
const QColor kTheoryColour(230, 120, 30);

QString number(double v) {
  return QString::number(v, 'g', 17);
}

}  // namespace

SnrView::SnrView(Workspace& workspace, QWidget* parent)
    : ExplorerView(parent),
      workspace_(workspace),
      message_(new QLabel(this)),
      k_(new QComboBox(this)),
      target_(new QDoubleSpinBox(this)),
      block_(new QComboBox(this)),
      grid_(new HeadGridCanvas(this)),
      snr_chart_(new LineChartCanvas(this)),
      recall_chart_(new LineChartCanvas(this)) {
  message_->setWordWrap(true);
  message_->setText(tr("Open a file with a sparsity SNR analysis (headscope snr --out)."));
  target_->setRange(0, 1);
  target_->setSingleStep(0.05);
  target_->setDecimals(3);
  target_->setValue(0.9);
  block_->addItem(tr("largest block size"));
  block_->addItem(tr("smallest block size"));
  auto* controls = new QHBoxLayout;
  controls->addWidget(new QLabel(tr("Grid:"), this));
  controls->addWidget(block_);
  controls->addWidget(new QLabel(tr("reaching recall@"), this));
  controls->addWidget(k_);
  controls->addWidget(new QLabel(tr(">="), this));
  controls->addWidget(target_);
  controls->addStretch(1);
  auto* charts = new QSplitter(Qt::Vertical, this);
  charts->addWidget(snr_chart_);
  charts->addWidget(recall_chart_);
  auto* splitter = new QSplitter(this);
  splitter->addWidget(grid_);
  splitter->addWidget(charts);
  // Halves: the grid's size hint is small, and its label would be cut.
  splitter->setSizes({1, 1});
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(message_);
  layout->addLayout(controls);
  layout->addWidget(splitter, 1);
  grid_->on_click([this](HeadCell cell) { workspace_.select_head(cell.layer, cell.head); });
  connect(k_, qOverload<int>(&QComboBox::currentIndexChanged), this, [this](int) {
    show_grid();
    show_head();
  });
  connect(block_, qOverload<int>(&QComboBox::currentIndexChanged), this,
          [this](int) { show_grid(); });
  connect(target_, qOverload<double>(&QDoubleSpinBox::valueChanged), this, [this](double) {
    show_grid();
    show_head();
  });
  connect(&workspace_, &Workspace::selection_changed, this,
          [this](const HeadSelection& selection) { follow_selection(selection); });
  follow_selection(workspace_.selection());
}

QString SnrView::message() const {
  return message_->text();
}

void SnrView::set_target(double target) {
  target_->setValue(target);
}

bool SnrView::choose_k(int index) {
  if (index < 0 || index >= k_->count()) return false;
  k_->setCurrentIndex(index);
  return true;
}

void SnrView::choose_block(BlockChoice choice) {
  block_->setCurrentIndex(choice == BlockChoice::kLargest ? 0 : 1);
}

void SnrView::follow_selection(const HeadSelection& selection) {
  if (selection.file < 0) return;
  if (selection.file == shown_file_) {
    show_head();
    return;
  }
  shown_file_ = selection.file;
  shown_ = nullptr;
  request_.cancel();
  {
    const QSignalBlocker block(k_);
    k_->clear();
  }
  show_grid();
  show_head();
  std::shared_ptr<const OpenFile> file = workspace_.files()[static_cast<size_t>(selection.file)];
  if (!has_snr_curves(*file)) {
    message_->setText(tr("%1 has no sparsity SNR analysis (%2; headscope snr --out writes it).")
                          .arg(QString::fromStdString(file->name()), kSnrPath));
    return;
  }
  message_->setText(tr("Reading %1 ...").arg(kSnrPath));
  request_.start([file] { return read_snr_curves(*file); },
                 [this](const LatestRequest<SnrCurves>::Outcome& outcome) { show(outcome); });
}

void SnrView::show(const LatestRequest<SnrCurves>::Outcome& outcome) {
  shown_ = outcome.value;
  if (!shown_) {
    message_->setText(outcome.error);
    return;
  }
  {
    const QSignalBlocker block(k_);
    for (double k : shown_->topk) k_->addItem(QString::number(k));
    // k = 1 when measured: what a router keeping one block needs.
    k_->setCurrentIndex(0);
  }
  show_grid();
  show_head();
  message_->setText(tr("Sparsity SNR of %1 x %2 heads at %3 block sizes. Grid: the block size "
                       "at which a head's router recall reaches the target (blank: none); a "
                       "click selects a head.")
                        .arg(shown_->layers)
                        .arg(shown_->heads)
                        .arg(shown_->block_sizes.size()));
}

bool SnrView::head_in_file() const {
  const HeadSelection& s = workspace_.selection();
  return shown_ && s.layer >= 0 && s.layer < shown_->layers && s.head >= 0 &&
         s.head < shown_->heads;
}

void SnrView::show_grid() {
  if (!shown_ || k_->currentIndex() < 0) {
    grid_values_ = nullptr;
    grid_->set_values(nullptr);
    return;
  }
  grid_values_ = std::make_shared<const HeadValues>(block_size_reaching(
      *shown_, static_cast<size_t>(k_->currentIndex()), target_->value(),
      block_->currentIndex() == 0 ? BlockChoice::kLargest : BlockChoice::kSmallest));
  grid_->set_values(grid_values_);
}

void SnrView::show_head() {
  if (!head_in_file() || k_->currentIndex() < 0) {
    grid_->set_selected(std::nullopt);
    snr_chart_->set_chart({});
    recall_chart_->set_chart({});
    return;
  }
  const HeadSelection& s = workspace_.selection();
  grid_->set_selected(HeadCell{static_cast<int>(s.layer), static_cast<int>(s.head)});
  const auto k = static_cast<size_t>(k_->currentIndex());
  const QString head = tr("head %1.%2").arg(s.layer).arg(s.head);
  LineChart snr;
  snr.title = tr("SNR of %1 against block size").arg(head);
  snr.x_label = tr("block size");
  snr.y_label = tr("SNR");
  snr.log_x = true;
  snr.series.push_back({tr("measured"), kMeasuredColour, shown_->block_sizes,
                        shown_->snr_measured_of(s.layer, s.head)});
  snr.series.push_back(
      {tr("theory"), kTheoryColour, shown_->block_sizes, shown_->snr_theory_of(s.layer, s.head)});
  snr_chart_->set_chart(std::move(snr));
  LineChart recall;
  const QString at = tr("recall@%1").arg(shown_->topk[k]);
  recall.title = tr("Router %1 of %2 against block size").arg(at, head);
  recall.x_label = tr("block size");
  recall.y_label = at;
  recall.log_x = true;
  recall.series.push_back({tr("measured"), kMeasuredColour, shown_->block_sizes,
                           shown_->recall_of(s.layer, s.head, k)});
  recall.series.push_back({tr("predicted"), kTheoryColour, shown_->block_sizes,
                           shown_->predicted_recall_of(s.layer, s.head, k)});
  recall.references.push_back({tr("target %1").arg(target_->value()), target_->value()});
  recall_chart_->set_chart(std::move(recall));
}

QString SnrView::csv() const {
  if (!head_in_file() || k_->currentIndex() < 0) return {};
  const HeadSelection& s = workspace_.selection();
  const auto k = static_cast<size_t>(k_->currentIndex());
  const QString at = QString::number(shown_->topk[k]);
  QString out = QStringLiteral(
                    "layer,head,block_size,snr_theory,snr_measured,recall@%1,"
                    "predicted_recall@%1\n")
                    .arg(at);
  const std::vector<double> theory = shown_->snr_theory_of(s.layer, s.head);
  const std::vector<double> measured = shown_->snr_measured_of(s.layer, s.head);
  const std::vector<double> recall = shown_->recall_of(s.layer, s.head, k);
  const std::vector<double> predicted = shown_->predicted_recall_of(s.layer, s.head, k);
  for (size_t b = 0; b < shown_->block_sizes.size(); ++b) {
    out += QStringLiteral("%1,%2,%3,%4,%5,%6,%7\n")
               .arg(s.layer)
               .arg(s.head)
               .arg(number(shown_->block_sizes[b]), number(theory[b]), number(measured[b]),
                    number(recall[b]), number(predicted[b]));
  }
  return out;
}

}  // namespace headscope::gui
