#include "gui/views/head_grid_view.h"

#include <QtCore/QSortFilterProxyModel>
#include <QtWidgets/QComboBox>
#include <QtWidgets/QHBoxLayout>
#include <QtWidgets/QLabel>
#include <QtWidgets/QSplitter>
#include <QtWidgets/QTableView>
#include <QtWidgets/QVBoxLayout>

#include "gui/models/head_rank_model.h"
#include "gui/views/file_quantities.h"
#include "gui/views/head_grid_canvas.h"
#include "gui/views/row_table.h"

namespace headscope::gui {

HeadGridView::HeadGridView(Workspace& workspace, QWidget* parent)
    : ExplorerView(parent),
      workspace_(workspace),
      combo_(new QComboBox(this)),
      message_(new QLabel(this)),
      canvas_(new HeadGridCanvas(this)),
      rank_model_(new HeadRankModel(this)),
      proxy_(new QSortFilterProxyModel(this)),
      table_(nullptr) {
  message_->setWordWrap(true);
  message_->setText(tr("Open a file with per-head analyses or attention statistics."));
  proxy_->setSourceModel(rank_model_);
  proxy_->setSortRole(HeadRankModel::kSortRole);
  table_ = make_sorted_row_table(proxy_, HeadRankModel::kValue, this);

  auto* top = new QHBoxLayout;
  top->addWidget(new QLabel(tr("Quantity:"), this));
  top->addWidget(combo_, 1);
  auto* splitter = new QSplitter(this);
  splitter->addWidget(canvas_);
  splitter->addWidget(table_);
  splitter->setStretchFactor(0, 3);
  splitter->setStretchFactor(1, 1);
  splitter->setSizes({700, 260});  // the table's three columns in full
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(top);
  layout->addWidget(message_);
  layout->addWidget(splitter, 1);

  connect(combo_, qOverload<int>(&QComboBox::currentIndexChanged), this,
          [this](int index) { request(index); });
  canvas_->on_click([this](HeadCell cell) { select_head(cell.layer, cell.head); });
  connect(table_, &QTableView::clicked, this, [this](const QModelIndex& index) {
    const QModelIndex row = proxy_->mapToSource(index);
    if (!shown_ || !row.isValid()) return;
    select_head(static_cast<int>(row.row() / shown_->heads),
                static_cast<int>(row.row() % shown_->heads));
  });
  connect(&workspace_, &Workspace::file_added, this, [this](int file) { add_quantities(file); });
  connect(&workspace_, &Workspace::selection_changed, this,
          [this](const HeadSelection& selection) { follow_selection(selection); });
  for (size_t file = 0; file < workspace_.files().size(); ++file) {
    add_quantities(static_cast<int>(file));
  }
}

QStringList HeadGridView::quantity_labels() const {
  QStringList labels;
  for (int i = 0; i < combo_->count(); ++i) labels << combo_->itemText(i);
  return labels;
}

bool HeadGridView::choose_quantity(const QString& text) {
  for (int i = 0; i < combo_->count(); ++i) {
    if (combo_->itemText(i).contains(text)) {
      combo_->setCurrentIndex(i);
      return true;
    }
  }
  return false;
}

QString HeadGridView::message() const {
  return message_->text();
}

void HeadGridView::add_quantities(int file) {
  std::optional<std::vector<HeadQuantity>> found = file_quantities(workspace_, file, *message_);
  if (!found) return;
  const OpenFile& open = *workspace_.files()[static_cast<size_t>(file)];
  // With several files open, each label says which file it is from.
  const bool several = workspace_.files().size() > 1;
  for (HeadQuantity& quantity : *found) {
    const QString label =
        QString::fromStdString(several ? open.name() + ": " + quantity.label : quantity.label);
    entries_.push_back({file, std::move(quantity)});
    combo_->addItem(label);  // the first item added requests itself through the signal
  }
  if (combo_->count() == 0) {
    message_->setText(tr("%1 has no per-head quantity: no [layer, head] analysis and no "
                         "attention statistics.")
                          .arg(QString::fromStdString(open.name())));
  }
}

void HeadGridView::request(int entry) {
  if (entry < 0 || entry >= static_cast<int>(entries_.size())) return;
  const Entry& chosen = entries_[static_cast<size_t>(entry)];
  std::shared_ptr<const OpenFile> file = workspace_.files()[static_cast<size_t>(chosen.file)];
  message_->setText(tr("Reading %1 ...").arg(combo_->itemText(entry)));
  shown_entry_ = entry;
  request_.start([file, quantity = chosen.quantity] { return read_head_values(*file, quantity); },
                 [this](const LatestRequest<HeadValues>::Outcome& outcome) { show(outcome); });
}

void HeadGridView::show(const LatestRequest<HeadValues>::Outcome& outcome) {
  shown_ = outcome.value;
  canvas_->set_values(shown_);
  rank_model_->set_values(shown_);
  if (!shown_) {
    message_->setText(outcome.error);
    return;
  }
  const Entry& entry = entries_[static_cast<size_t>(shown_entry_)];
  message_->setText(
      tr("%1 of %2: %3 layers x %4 heads. Click a head to select it.")
          .arg(QString::fromStdString(entry.quantity.path))
          .arg(QString::fromStdString(workspace_.files()[static_cast<size_t>(entry.file)]->name()))
          .arg(shown_->layers)
          .arg(shown_->heads));
  // A file's first grid selects a head of it, so the other views have something to show.
  // A statistic's grid moves the selection to its run, keeping the head.
  HeadSelection selection = workspace_.selection();
  if (selection.file != entry.file) {
    selection = HeadSelection{entry.file, 0, 0, 0};
  }
  if (entry.quantity.run >= 0) selection.run = entry.quantity.run;
  workspace_.select(selection);
  follow_selection(workspace_.selection());
}

void HeadGridView::select_head(int layer, int head) {
  if (shown_entry_ < 0) return;
  const Entry& entry = entries_[static_cast<size_t>(shown_entry_)];
  HeadSelection selection = workspace_.selection();
  selection.file = entry.file;
  if (entry.quantity.run >= 0) selection.run = entry.quantity.run;
  selection.layer = layer;
  selection.head = head;
  workspace_.select(selection);
}

void HeadGridView::follow_selection(const HeadSelection& selection) {
  const bool same_file =
      shown_entry_ >= 0 && entries_[static_cast<size_t>(shown_entry_)].file == selection.file;
  canvas_->set_selected(same_file
                            ? std::optional<HeadCell>(HeadCell{static_cast<int>(selection.layer),
                                                               static_cast<int>(selection.head)})
                            : std::nullopt);
}

QString HeadGridView::csv() const {
  if (!shown_) return {};
  QString out =
      QStringLiteral("layer,head,%1\n").arg(QString::fromStdString(shown_->quantity.label));
  for (int64_t l = 0; l < shown_->layers; ++l) {
    for (int64_t h = 0; h < shown_->heads; ++h) {
      out += QStringLiteral("%1,%2,%3\n")
                 .arg(l)
                 .arg(h)
                 .arg(QString::number(shown_->at(l, h), 'g', 17));
    }
  }
  return out;
}

}  // namespace headscope::gui
