#include "gui/views/ablation_view.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <QtWidgets/QComboBox>
#include <QtWidgets/QHBoxLayout>
#include <QtWidgets/QLabel>
#include <QtWidgets/QSplitter>
#include <QtWidgets/QVBoxLayout>

#include "gui/views/bar_chart_canvas.h"
#include "gui/views/line_chart_canvas.h"

namespace headscope::gui {
namespace {

QString text(const std::string& s) {
  return QString::fromStdString(s);
}

bool ablated(const HeadEffects& effects, int64_t layer, int64_t head) {
  if (!effects.ablation) return false;
  const HeadValues& mask = effects.ablation->mask;
  return layer < mask.layers && head < mask.heads && mask.at(layer, head) != 0;
}

}  // namespace

AblationView::AblationView(Workspace& workspace, QWidget* parent)
    : ExplorerView(parent),
      workspace_(workspace),
      message_(new QLabel(this)),
      quantity_(new QComboBox(this)),
      bars_(new BarChartCanvas(this)),
      curve_(new LineChartCanvas(this)),
      summary_(new QLabel(this)) {
  message_->setWordWrap(true);
  message_->setText(
      tr("Open a file with an importance or ablation analysis (headscope "
         "importance --out, headscope ablate --out)."));
  summary_->setWordWrap(true);
  summary_->setAlignment(Qt::AlignTop | Qt::AlignLeft);
  summary_->setTextFormat(Qt::RichText);
  auto* quantity_row = new QHBoxLayout;
  quantity_row->addWidget(new QLabel(tr("Per-head quantity:"), this));
  quantity_row->addWidget(quantity_, 1);
  auto* bottom = new QSplitter(this);
  bottom->addWidget(curve_);
  bottom->addWidget(summary_);
  bottom->setStretchFactor(0, 2);
  bottom->setStretchFactor(1, 1);
  auto* splitter = new QSplitter(Qt::Vertical, this);
  splitter->addWidget(bars_);
  splitter->addWidget(bottom);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(message_);
  layout->addLayout(quantity_row);
  layout->addWidget(splitter, 1);
  curve_->hide();
  bars_->on_click([this](int index) {
    if (index < 0 || index >= static_cast<int>(order_.size())) return;
    workspace_.select_head(order_[static_cast<size_t>(index)].first,
                           order_[static_cast<size_t>(index)].second);
  });
  connect(quantity_, qOverload<int>(&QComboBox::currentIndexChanged), this,
          [this](int) { show_quantity(); });
  connect(&workspace_, &Workspace::selection_changed, this,
          [this](const HeadSelection& selection) { follow_selection(selection); });
  follow_selection(workspace_.selection());
}

QString AblationView::message() const {
  return message_->text();
}

QString AblationView::summary() const {
  return summary_->text();
}

void AblationView::follow_selection(const HeadSelection& selection) {
  if (selection.file < 0) return;
  if (selection.file == shown_file_) {
    show_selected();
    return;
  }
  shown_file_ = selection.file;
  shown_ = nullptr;
  request_.cancel();
  {
    const QSignalBlocker block(quantity_);
    quantity_->clear();
  }
  show_quantity();
  curve_->hide();
  summary_->clear();
  std::shared_ptr<const OpenFile> file = workspace_.files()[static_cast<size_t>(selection.file)];
  if (!has_head_effects(*file)) {
    message_->setText(tr("%1 has no importance or ablation analysis (%2, %3; headscope "
                         "importance and headscope ablate write them with --out).")
                          .arg(text(file->name()), kImportancePath, kAblationPath));
    return;
  }
  message_->setText(tr("Reading the importance and ablation analyses ..."));
  request_.start([file] { return read_head_effects(*file); },
                 [this](const LatestRequest<HeadEffects>::Outcome& outcome) { show(outcome); });
}

void AblationView::show(const LatestRequest<HeadEffects>::Outcome& outcome) {
  shown_ = outcome.value;
  if (!shown_) {
    message_->setText(outcome.error);
    return;
  }
  {
    const QSignalBlocker block(quantity_);
    for (const HeadValues& values : shown_->quantities) {
      quantity_->addItem(text(values.quantity.label));
    }
  }
  show_quantity();
  if (shown_->curve) {
    const PruningCurve& curve = *shown_->curve;
    const QString metric = curve.metric.empty() ? tr("metric") : text(curve.metric);
    LineChart chart;
    chart.title = tr("Pruning by importance");
    chart.x_label = tr("heads pruned");
    chart.y_label = metric;
    chart.series.push_back({metric, QColor(40, 110, 170), curve.heads_pruned, curve.value});
    if (curve.threshold && curve.unpruned) {
      chart.references.push_back({tr("threshold %1 x unpruned").arg(*curve.threshold),
                                  *curve.threshold * *curve.unpruned});
    }
    curve_->set_chart(std::move(chart));
    curve_->show();
  }
  QString summary;
  if (shown_->ablation) {
    const AblationSummary& ablation = *shown_->ablation;
    summary = tr("<b>Ablation</b> (%1) of heads %2<table cellspacing=4><tr><th align=left>score"
                 "</th><th>baseline</th><th>ablated</th><th>change</th></tr>")
                  .arg(text(ablation.method).toHtmlEscaped(), text(ablation.heads).toHtmlEscaped());
    for (const ScoreChange& score : ablation.scores) {
      summary += QStringLiteral(
                     "<tr><td>%1</td><td align=right>%2</td><td align=right>%3</td>"
                     "<td align=right>%4</td></tr>")
                     .arg(text(score.name), QString::number(score.baseline, 'g', 6),
                          QString::number(score.ablated, 'g', 6),
                          QString::number(score.ablated - score.baseline, 'g', 6));
    }
    summary += "</table>";
  }
  summary_->setText(summary);
  message_->setText(
      tr("%1 per-head quantities%2%3. Bars: heads sorted by the chosen quantity (ablated heads "
         "in orange); a click selects a head.")
          .arg(shown_->quantities.size())
          .arg(shown_->curve ? tr(", a pruning curve of %1 steps").arg(shown_->curve->value.size())
                             : QString())
          .arg(shown_->ablation ? tr(", an ablation of %1 heads").arg(text(shown_->ablation->heads))
                                : QString()));
}

bool AblationView::choose_quantity(const QString& label) {
  const int index = quantity_->findText(label);
  if (index < 0) return false;
  quantity_->setCurrentIndex(index);
  return true;
}

void AblationView::show_quantity() {
  order_.clear();
  const int index = quantity_->currentIndex();
  if (!shown_ || index < 0) {
    bars_->set_bars({}, {});
    return;
  }
  const HeadValues& values = shown_->quantities[static_cast<size_t>(index)];
  for (int64_t l = 0; l < values.layers; ++l) {
    for (int64_t h = 0; h < values.heads; ++h) order_.emplace_back(l, h);
  }
  // Largest first, NaN (no value) last; ties keep (layer, head) order, as the rank tables do.
  std::stable_sort(order_.begin(), order_.end(), [&values](const auto& a, const auto& b) {
    const double x = values.at(a.first, a.second), y = values.at(b.first, b.second);
    if (std::isnan(y)) return !std::isnan(x);
    return !std::isnan(x) && x > y;
  });
  std::vector<Bar> bars;
  for (const auto& [l, h] : order_) {
    bars.push_back(
        {tr("layer %1, head %2").arg(l).arg(h), values.at(l, h), ablated(*shown_, l, h)});
  }
  bars_->set_bars(std::move(bars), text(values.quantity.label));
  show_selected();
}

void AblationView::show_selected() {
  const HeadSelection& selection = workspace_.selection();
  const auto it =
      std::find(order_.begin(), order_.end(), std::make_pair(selection.layer, selection.head));
  bars_->set_selected(it == order_.end()
                          ? std::nullopt
                          : std::optional<int>(static_cast<int>(it - order_.begin())));
}

QString AblationView::csv() const {
  if (!shown_ || order_.empty()) return {};
  const HeadValues& values = shown_->quantities[static_cast<size_t>(quantity_->currentIndex())];
  QString out = "rank,layer,head," + text(values.quantity.label) + ",ablated\n";
  for (size_t i = 0; i < order_.size(); ++i) {
    const auto [l, h] = order_[i];
    out += QStringLiteral("%1,%2,%3,%4,%5\n")
               .arg(i + 1)
               .arg(l)
               .arg(h)
               .arg(QString::number(values.at(l, h), 'g', 17))
               .arg(ablated(*shown_, l, h) ? 1 : 0);
  }
  return out;
}

}  // namespace headscope::gui
