#include "gui/views/retrieval_view.h"

#include <QtCore/QSortFilterProxyModel>
#include <QtWidgets/QLabel>
#include <QtWidgets/QSplitter>
#include <QtWidgets/QTableView>
#include <QtWidgets/QVBoxLayout>

#include "gui/models/head_rank_model.h"
#include "gui/views/row_table.h"

namespace headscope::gui {
RetrievalView::RetrievalView(Workspace& workspace, QWidget* parent)
    : ExplorerView(parent),
      workspace_(workspace),
      message_(new QLabel(this)),
      head_model_(new HeadRankModel(this)),
      head_proxy_(new QSortFilterProxyModel(this)),
      head_table_(nullptr),
      sample_model_(new RetrievalSampleModel(this)),
      sample_proxy_(new QSortFilterProxyModel(this)),
      sample_table_(nullptr) {
  message_->setWordWrap(true);
  message_->setText(tr("Open a file with a retrieval-heads analysis (headscope retrieval)."));
  head_proxy_->setSourceModel(head_model_);
  head_proxy_->setSortRole(HeadRankModel::kSortRole);
  head_table_ = make_sorted_row_table(head_proxy_, HeadRankModel::kValue, this);
  sample_proxy_->setSourceModel(sample_model_);
  sample_table_ = make_sorted_row_table(sample_proxy_, RetrievalSampleModel::kScore, this);
  auto* splitter = new QSplitter(this);
  splitter->addWidget(head_table_);
  splitter->addWidget(sample_table_);
  splitter->setStretchFactor(0, 1);
  splitter->setStretchFactor(1, 2);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(message_);
  layout->addWidget(splitter, 1);
  connect(head_table_, &QTableView::clicked, this, [this](const QModelIndex& index) {
    const QModelIndex row = head_proxy_->mapToSource(index);
    if (!shown_ || !row.isValid()) return;
    workspace_.select_head(row.row() / shown_->score.heads, row.row() % shown_->score.heads);
  });
  connect(&workspace_, &Workspace::selection_changed, this,
          [this](const HeadSelection& selection) { follow_selection(selection); });
  follow_selection(workspace_.selection());
}

QString RetrievalView::message() const {
  return message_->text();
}

void RetrievalView::follow_selection(const HeadSelection& selection) {
  if (selection.file < 0) return;
  if (selection.file == shown_file_) {
    sample_model_->set_samples(shown_, selection.layer, selection.head);
    return;
  }
  shown_file_ = selection.file;
  shown_ = nullptr;
  request_.cancel();
  head_model_->set_values(nullptr);
  sample_model_->set_samples(nullptr, 0, 0);
  std::shared_ptr<const OpenFile> file = workspace_.files()[static_cast<size_t>(selection.file)];
  if (!has_retrieval_samples(*file)) {
    message_->setText(tr("%1 has no retrieval-heads analysis (%2; headscope retrieval writes it).")
                          .arg(QString::fromStdString(file->name()), kRetrievalGroup));
    return;
  }
  message_->setText(tr("Reading %1 ...").arg(kRetrievalGroup));
  request_.start(
      [file] { return read_retrieval_samples(*file); },
      [this](const LatestRequest<RetrievalSamples>::Outcome& outcome) { show(outcome); });
}

void RetrievalView::show(const LatestRequest<RetrievalSamples>::Outcome& outcome) {
  shown_ = outcome.value;
  if (!shown_) {
    message_->setText(outcome.error);
    return;
  }
  head_model_->set_values(std::shared_ptr<const HeadValues>(shown_, &shown_->score));
  const HeadSelection& selection = workspace_.selection();
  sample_model_->set_samples(shown_, selection.layer, selection.head);
  int64_t accepted = 0;
  for (double a : shown_->accepted) accepted += a != 0 ? 1 : 0;
  message_->setText(tr("Retrieval heads: %1 samples, %2 accepted. Left: heads by score (a click "
                       "selects one); right: the selected head's score on each sample.")
                        .arg(shown_->samples)
                        .arg(accepted));
}

QString RetrievalView::csv() const {
  if (!shown_) return {};
  QString out;
  for (int c = 0; c < RetrievalSampleModel::kColumnCount; ++c) {
    out += (c ? "," : "") + sample_model_->headerData(c, Qt::Horizontal).toString();
  }
  out += '\n';
  for (int r = 0; r < sample_model_->rowCount(); ++r) {
    for (int c = 0; c < RetrievalSampleModel::kColumnCount; ++c) {
      const QVariant v = sample_model_->index(r, c).data();
      out +=
          (c ? "," : "") +
          (v.typeId() == QMetaType::Double ? QString::number(v.toDouble(), 'g', 17) : v.toString());
    }
    out += '\n';
  }
  return out;
}

}  // namespace headscope::gui
