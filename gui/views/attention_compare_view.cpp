#include "gui/views/attention_compare_view.h"

#include <algorithm>
#include <cmath>

#include <QtWidgets/QGridLayout>
#include <QtWidgets/QLabel>
#include <QtWidgets/QVBoxLayout>

#include "gui/views/ab_choice.h"
#include "gui/views/attention_canvas.h"

namespace headscope::gui {

AttentionCompareView::AttentionCompareView(Workspace& workspace, QWidget* parent)
    : ExplorerView(parent),
      workspace_(workspace),
      message_(new QLabel(this)),
      choice_(new AbChoice(this)) {
  message_->setWordWrap(true);
  message_->setText(
      tr("Open two files (or one with two runs) and select a head to compare its attention."));
  auto* maps = new QGridLayout;
  const QString titles[] = {tr("A"), tr("B"), tr("A - B")};
  for (int i = 0; i < 3; ++i) {
    canvases_[i] = new AttentionCanvas(this);
    // Three in a row must fit the window's smallest width; a map needs a wide window anyway.
    canvases_[i]->setMinimumSize(150, 200);
    canvases_[i]->on_view_changed([this, i] { follow_view(i); });
    maps->addWidget(new QLabel(titles[i], this), 0, i, Qt::AlignHCenter);
    maps->addWidget(canvases_[i], 1, i);
    maps->setColumnStretch(i, 1);
  }
  maps->setRowStretch(1, 1);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(message_);
  layout->addWidget(choice_);
  layout->addLayout(maps, 1);
  choice_->on_change([this] {
    layer_ = head_ = -1;
    request();
  });
  connect(&workspace_, &Workspace::file_added, this, [this](int file) { add_runs(file); });
  connect(&workspace_, &Workspace::selection_changed, this,
          [this](const HeadSelection&) { request(); });
  for (int file = 0; file < static_cast<int>(workspace_.files().size()); ++file) add_runs(file);
}

QString AttentionCompareView::message() const {
  return message_->text();
}

QStringList AttentionCompareView::choices() const {
  return choice_->labels();
}

bool AttentionCompareView::choose(const QString& a, const QString& b) {
  if (!choice_->set(a, b)) return false;
  layer_ = head_ = -1;
  request();
  return true;
}

void AttentionCompareView::add_runs(int file) {
  std::shared_ptr<const OpenFile> open = workspace_.files()[static_cast<size_t>(file)];
  if (open->run_count() == 0) return;
  const bool first = runs_.empty();
  const auto first_new = static_cast<int>(runs_.size());
  for (int64_t run = 0; run < open->run_count(); ++run) {
    const QString label = QString::fromStdString(open->name()) + tr(": run %1").arg(run);
    runs_.push_back({open, run});
    choice_->add(label);
  }
  if (first) {
    // Until a second file comes: two runs of this one, when it has them.
    choice_->set(0, runs_.size() > 1 ? 1 : 0);
  } else {
    // A second file: B becomes its run of A's index, else its first.
    const int64_t a_run = runs_[static_cast<size_t>(choice_->a())].run;
    choice_->set(choice_->a(), first_new + static_cast<int>(a_run < open->run_count() ? a_run : 0));
  }
  layer_ = head_ = -1;
  request();
}

void AttentionCompareView::request() {
  const int a = choice_->a(), b = choice_->b();
  const HeadSelection& s = workspace_.selection();
  if (a < 0 || b < 0 || s.file < 0) return;
  if (s.layer == layer_ && s.head == head_) return;
  if (!isVisible()) return;  // showEvent asks again
  layer_ = s.layer;
  head_ = s.head;
  message_->setText(tr("Reading layer %1, head %2 of %3 and %4 ...")
                        .arg(s.layer)
                        .arg(s.head)
                        .arg(choice_->a_text(), choice_->b_text()));
  request_.start(
      [ra = runs_[static_cast<size_t>(a)], rb = runs_[static_cast<size_t>(b)], layer = s.layer,
       head = s.head] { return compare_attention(ra, rb, layer, head); },
      [this](const LatestRequest<AttentionComparison>::Outcome& outcome) { show(outcome); });
}

void AttentionCompareView::showEvent(QShowEvent* event) {
  ExplorerView::showEvent(event);
  request();
}

void AttentionCompareView::show(const LatestRequest<AttentionComparison>::Outcome& outcome) {
  shown_ = outcome.value;
  if (!shown_) {
    for (AttentionCanvas* canvas : canvases_) canvas->set_map(nullptr);
    message_->setText(outcome.error);
    return;
  }
  canvases_[0]->set_map(shown_->a);
  canvases_[1]->set_map(shown_->b);
  canvases_[2]->set_map(shown_->difference, AttentionCanvas::Scale::kDiverging);
  const AttentionMap& a = *shown_->a;
  message_->setText(
      a.kind == AttentionMap::Kind::kFull
          ? tr("Layer %1, head %2: full maps of %3 tokens (%4). Hover for values; the wheel "
               "zooms all three.")
                .arg(layer_)
                .arg(head_)
                .arg(a.positions)
                .arg(QString::fromStdString(a.dataset))
          : tr("Layer %1, head %2: block maps, blocks of %3 tokens (A: %4, B: %5). Hover for "
               "values; the wheel zooms all three.")
                .arg(layer_)
                .arg(head_)
                .arg(a.block_size)
                .arg(QString::fromStdString(a.dataset),
                     QString::fromStdString(shown_->b->dataset)));
}

void AttentionCompareView::follow_view(int from) {
  if (following_ || !shown_) return;
  following_ = true;
  const QRectF cells = canvases_[from]->visible();
  for (int i = 0; i < 3; ++i) {
    if (i != from) canvases_[i]->set_visible(cells);
  }
  following_ = false;
}

QString AttentionCompareView::csv() const {
  if (!shown_) return {};
  const AttentionMap& a = *shown_->a;
  const QRectF visible = canvases_[2]->visible();
  QString out = "query,key,a,b,a_minus_b\n";
  const auto first_row = static_cast<int64_t>(visible.top());
  const auto first_col = static_cast<int64_t>(visible.left());
  const int64_t end_row = std::min(a.rows, static_cast<int64_t>(std::ceil(visible.bottom())));
  const int64_t end_col = std::min(a.cols, static_cast<int64_t>(std::ceil(visible.right())));
  for (int64_t r = first_row; r < end_row; ++r) {
    for (int64_t c = first_col; c < end_col; ++c) {
      out += QStringLiteral("%1,%2,%3,%4,%5\n")
                 .arg(r * a.block_size)
                 .arg(c * a.block_size)
                 .arg(QString::number(a.at(r, c), 'g', 9),
                      QString::number(shown_->b->at(r, c), 'g', 9),
                      QString::number(shown_->difference->at(r, c), 'g', 9));
    }
  }
  return out;
}

}  // namespace headscope::gui
