#include "gui/views/token_view.h"

#include <algorithm>

#include <QtWidgets/QComboBox>
#include <QtWidgets/QHBoxLayout>
#include <QtWidgets/QLabel>
#include <QtWidgets/QScrollBar>
#include <QtWidgets/QSpinBox>
#include <QtWidgets/QVBoxLayout>

#include "gui/views/token_canvas.h"

namespace headscope::gui {

TokenView::TokenView(Workspace& workspace, QWidget* parent)
    : ExplorerView(parent),
      workspace_(workspace),
      colour_by_(new QComboBox(this)),
      query_box_(new QSpinBox(this)),
      message_(new QLabel(this)),
      canvas_(new TokenCanvas(this)) {
  message_->setWordWrap(true);
  message_->setText(tr("Select a head in the head grid."));
  colour_by_->addItem(tr("attention of the query"), QString());
  for (const std::string& statistic : token_statistics()) {
    colour_by_->addItem(QString::fromStdString(statistic), QString::fromStdString(statistic));
  }
  query_box_->setRange(0, 0);
  auto* top = new QHBoxLayout;
  top->addWidget(new QLabel(tr("Colour by:"), this));
  top->addWidget(colour_by_);
  top->addWidget(new QLabel(tr("Query:"), this));
  top->addWidget(query_box_);
  top->addStretch(1);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(top);
  layout->addWidget(message_);
  layout->addWidget(canvas_, 1);
  connect(colour_by_, qOverload<int>(&QComboBox::currentIndexChanged), this,
          [this](int) { request(); });
  connect(query_box_, &QSpinBox::editingFinished, this,
          [this] { choose_query(query_box_->value()); });
  canvas_->on_pick([this](int64_t position) { choose_query(position); });
  connect(&workspace_, &Workspace::selection_changed, this, [this](const HeadSelection&) {
    query_ = -1;
    request();
  });
  request();
}

QString TokenView::message() const {
  return message_->text();
}

void TokenView::choose_query(int64_t query) {
  query_ = query;
  if (colour_by_->currentIndex() != 0) {
    colour_by_->setCurrentIndex(0);  // requests
    return;
  }
  request();
}

void TokenView::choose_statistic(const std::string& statistic) {
  const int index = colour_by_->findData(QString::fromStdString(statistic));
  colour_by_->setCurrentIndex(std::max(index, 0));
}

void TokenView::request() {
  const HeadSelection& selection = workspace_.selection();
  if (selection.file < 0) return;
  std::shared_ptr<const OpenFile> file = workspace_.files()[static_cast<size_t>(selection.file)];
  if (file->run_count() == 0) {
    canvas_->set_values(nullptr);
    message_->setText(
        tr("%1 has no runs: nothing recorded to show.").arg(QString::fromStdString(file->name())));
    return;
  }
  TokenRequest request;
  request.head.run = selection.run;
  request.head.layer = selection.layer;
  request.head.head = selection.head;
  request.statistic = colour_by_->currentData().toString().toStdString();
  request.query = query_;
  message_->setText(tr("Reading ..."));
  request_.start([file, request] { return read_token_values(*file, request); },
                 [this](const LatestRequest<TokenValues>::Outcome& outcome) { show(outcome); });
}

void TokenView::show(const LatestRequest<TokenValues>::Outcome& outcome) {
  canvas_->set_values(outcome.value);
  if (!outcome.value) {
    message_->setText(outcome.error);
    return;
  }
  const TokenValues& values = *outcome.value;
  const TokenRequest& request = values.request;
  const auto tokens = static_cast<int64_t>(values.values.size());
  {
    const QSignalBlocker block(query_box_);
    query_box_->setRange(0, static_cast<int>(std::max<int64_t>(tokens - 1, 0)));
    query_box_->setValue(static_cast<int>(request.query));
  }
  const QString head = tr("run %1, layer %2, head %3")
                           .arg(request.head.run)
                           .arg(request.head.layer)
                           .arg(request.head.head);
  if (request.statistic.empty()) {
    query_ = request.query;
    canvas_->set_marked(request.query);
    canvas_->scroll_to(request.query);
    message_->setText(tr("%1: the attention of query %2 over %3 tokens (%4). Click a token to "
                         "make it the query.")
                          .arg(head)
                          .arg(request.query)
                          .arg(tokens)
                          .arg(QString::fromStdString(values.source)));
  } else {
    canvas_->set_marked(-1);
    message_->setText(tr("%1: %2 of each query, %3 tokens (%4).")
                          .arg(head, QString::fromStdString(request.statistic))
                          .arg(tokens)
                          .arg(QString::fromStdString(values.source)));
  }
}

QString TokenView::csv() const {
  const std::shared_ptr<const TokenValues>& values = canvas_->values();
  if (!values) return {};
  const TokenRequest& request = values->request;
  QString out =
      QStringLiteral("position,token,%1\n")
          .arg(request.statistic.empty() ? QStringLiteral("prob_from_query_%1").arg(request.query)
                                         : QString::fromStdString(request.statistic));
  // The tokens in view: what the picture shows.
  const auto [first, last] = canvas_->visible_tokens();
  for (int64_t i = first; i < last; ++i) {
    QString text = QString::fromStdString(values->text[static_cast<size_t>(i)]);
    text.replace('"', "\"\"");
    out += QStringLiteral("%1,\"%2\",%3\n")
               .arg(i)
               .arg(text)
               .arg(QString::number(values->values[static_cast<size_t>(i)], 'g', 9));
  }
  return out;
}

}  // namespace headscope::gui
