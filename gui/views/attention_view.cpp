#include "gui/views/attention_view.h"

#include <QtWidgets/QHBoxLayout>
#include <QtWidgets/QLabel>
#include <QtWidgets/QSpinBox>
#include <QtWidgets/QVBoxLayout>

#include "gui/views/attention_canvas.h"

namespace headscope::gui {

AttentionView::AttentionView(Workspace& workspace, QWidget* parent)
    : ExplorerView(parent),
      workspace_(workspace),
      run_(new QSpinBox(this)),
      message_(new QLabel(this)),
      canvas_(new AttentionCanvas(this)) {
  message_->setWordWrap(true);
  message_->setText(tr("Select a head in the head grid."));
  run_->setRange(0, 0);
  auto* top = new QHBoxLayout;
  top->addWidget(new QLabel(tr("Run:"), this));
  top->addWidget(run_);
  top->addWidget(message_, 1);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(top);
  layout->addWidget(canvas_, 1);
  connect(run_, qOverload<int>(&QSpinBox::valueChanged), this, [this](int run) {
    HeadSelection selection = workspace_.selection();
    selection.run = run;
    workspace_.select(selection);
  });
  connect(&workspace_, &Workspace::selection_changed, this,
          [this](const HeadSelection& selection) { follow_selection(selection); });
  follow_selection(workspace_.selection());
}

QString AttentionView::message() const {
  return message_->text();
}

void AttentionView::follow_selection(const HeadSelection& selection) {
  if (selection.file < 0) return;
  std::shared_ptr<const OpenFile> file = workspace_.files()[static_cast<size_t>(selection.file)];
  {
    const QSignalBlocker block(run_);
    run_->setRange(0, static_cast<int>(std::max<int64_t>(file->run_count() - 1, 0)));
    run_->setValue(static_cast<int>(selection.run));
  }
  if (file->run_count() == 0) {
    canvas_->set_map(nullptr);
    message_->setText(
        tr("%1 has no runs: nothing recorded to show.").arg(QString::fromStdString(file->name())));
    return;
  }
  message_->setText(tr("Reading layer %1, head %2 ...").arg(selection.layer).arg(selection.head));
  AttentionRequest request;
  request.run = selection.run;
  request.layer = selection.layer;
  request.head = selection.head;
  request_.start([file, request] { return read_attention_map(*file, request); },
                 [this](const LatestRequest<AttentionMap>::Outcome& outcome) { show(outcome); });
}

void AttentionView::show(const LatestRequest<AttentionMap>::Outcome& outcome) {
  canvas_->set_map(outcome.value);
  if (!outcome.value) {
    message_->setText(outcome.error);
    return;
  }
  const AttentionMap& map = *outcome.value;
  const QString what =
      map.kind == AttentionMap::Kind::kFull
          ? tr("full map, %1 tokens").arg(map.positions)
          : tr("block mass, %1 tokens in blocks of %2").arg(map.positions).arg(map.block_size);
  message_->setText(tr("run %1, layer %2, head %3: %4 (%5). Wheel: zoom, drag: pan, double "
                       "click: whole map.")
                        .arg(map.request.run)
                        .arg(map.request.layer)
                        .arg(map.request.head)
                        .arg(what, QString::fromStdString(map.dataset)));
}

}  // namespace headscope::gui
