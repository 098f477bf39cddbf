#include "gui/views/attention_view.h"

#include <algorithm>
#include <cmath>

#include <QtWidgets/QHBoxLayout>
#include <QtWidgets/QLabel>
#include <QtWidgets/QLineEdit>
#include <QtWidgets/QPushButton>
#include <QtWidgets/QSpinBox>
#include <QtWidgets/QSplitter>
#include <QtWidgets/QTableView>
#include <QtWidgets/QVBoxLayout>

#include "gui/models/slice_model.h"
#include "gui/views/attention_canvas.h"
#include "gui/views/row_table.h"

namespace headscope::gui {
namespace {

// Positions shown around a token jumped to.
constexpr int64_t kJumpSpan = 48;
// How long a zoom or pan must rest before its region is read.
constexpr int kRefineDelayMs = 120;

// The visible box grown by half its size each way (so that small pans need no new read),
// within `limit` positions a side.
PositionBox padded(const PositionBox& box, int64_t limit) {
  const auto grow = [limit](int64_t begin, int64_t end, int64_t& out_begin, int64_t& out_end) {
    const int64_t pad =
        std::max<int64_t>(0, std::min((end - begin) / 2, (limit - (end - begin)) / 2));
    out_begin = std::max<int64_t>(0, begin - pad);
    out_end = end + pad;
  };
  PositionBox out;
  grow(box.query_begin, box.query_end, out.query_begin, out.query_end);
  grow(box.key_begin, box.key_end, out.key_begin, out.key_end);
  return out;
}

QString csv_text(const std::string& text) {
  QString s = QString::fromStdString(text);
  s.replace('"', "\"\"");
  return '"' + s + '"';
}

}  // namespace

AttentionView::AttentionView(Workspace& workspace, QWidget* parent)
    : ExplorerView(parent),
      workspace_(workspace),
      run_(new QSpinBox(this)),
      message_(new QLabel(this)),
      detail_message_(new QLabel(this)),
      canvas_(new AttentionCanvas(this)),
      jump_(new QSpinBox(this)),
      find_(new QLineEdit(this)),
      slice_message_(new QLabel(this)),
      row_model_(new SliceModel(this)),
      column_model_(new SliceModel(this)),
      row_table_(make_row_table(row_model_, this)),
      column_table_(make_row_table(column_model_, this)) {
  message_->setWordWrap(true);
  message_->setText(tr("Select a head in the head grid."));
  detail_message_->setWordWrap(true);
  slice_message_->setWordWrap(true);
  slice_message_->setText(tr("Click the map to pick a query and a key."));
  run_->setRange(0, 0);
  jump_->setRange(0, 0);
  find_->setPlaceholderText(tr("find token text"));
  auto* top = new QHBoxLayout;
  top->addWidget(new QLabel(tr("Run:"), this));
  top->addWidget(run_);
  top->addWidget(message_, 1);

  auto* side = new QWidget(this);
  auto* jump_row = new QHBoxLayout;
  auto* go = new QPushButton(tr("Go"), side);
  jump_row->addWidget(new QLabel(tr("Token:"), side));
  jump_row->addWidget(jump_, 1);
  jump_row->addWidget(go);
  auto* find_row = new QHBoxLayout;
  auto* next = new QPushButton(tr("Find next"), side);
  find_row->addWidget(find_, 1);
  find_row->addWidget(next);
  auto* side_layout = new QVBoxLayout(side);
  side_layout->setContentsMargins(0, 0, 0, 0);
  side_layout->addLayout(jump_row);
  side_layout->addLayout(find_row);
  side_layout->addWidget(slice_message_);
  side_layout->addWidget(new QLabel(tr("Keys the query reads most:"), side));
  side_layout->addWidget(row_table_, 1);
  side_layout->addWidget(new QLabel(tr("Queries that read the key most:"), side));
  side_layout->addWidget(column_table_, 1);

  auto* splitter = new QSplitter(this);
  splitter->addWidget(canvas_);
  splitter->addWidget(side);
  splitter->setStretchFactor(0, 3);
  splitter->setStretchFactor(1, 1);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(top);
  layout->addWidget(detail_message_);
  layout->addWidget(splitter, 1);

  refine_timer_.setSingleShot(true);
  refine_timer_.setInterval(kRefineDelayMs);
  connect(&refine_timer_, &QTimer::timeout, this, [this] { refine(); });
  canvas_->on_view_changed([this] { refine_timer_.start(); });
  canvas_->on_pick([this](int64_t query, int64_t key) { pick(query, key); });
  connect(go, &QPushButton::clicked, this, [this] { jump_to(jump_->value()); });
  connect(jump_, &QSpinBox::editingFinished, this, [this] { jump_to(jump_->value()); });
  const auto search = [this] {
    if (!find_->text().isEmpty() && !find_token(find_->text())) {
      slice_message_->setText(tr("No token contains '%1'.").arg(find_->text()));
    }
  };
  connect(next, &QPushButton::clicked, this, search);
  connect(find_, &QLineEdit::returnPressed, this, search);
  connect(row_table_, &QTableView::clicked, this, [this](const QModelIndex& index) {
    if (picked_query_ < 0 || !index.isValid()) return;
    const int64_t key = row_model_->entries()[static_cast<size_t>(index.row())].position;
    canvas_->show_positions({picked_query_ - kJumpSpan / 2, picked_query_ + kJumpSpan / 2,
                             key - kJumpSpan / 2, key + kJumpSpan / 2});
    pick(picked_query_, key);
  });
  connect(column_table_, &QTableView::clicked, this, [this](const QModelIndex& index) {
    if (!canvas_->map() || !index.isValid()) return;
    const int64_t query = column_model_->entries()[static_cast<size_t>(index.row())].position;
    const int64_t key = canvas_->visible_positions().key_begin;
    jump_to(query);
    pick(query, std::min(key, query));
  });
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

QString AttentionView::detail_message() const {
  return detail_message_->text();
}

bool AttentionView::busy() const {
  return request_.busy() || detail_request_.busy() || slice_request_.busy() ||
         refine_timer_.isActive();
}

void AttentionView::follow_selection(const HeadSelection& selection) {
  if (selection.file < 0) return;
  file_ = workspace_.files()[static_cast<size_t>(selection.file)];
  {
    const QSignalBlocker block(run_);
    run_->setRange(0, static_cast<int>(std::max<int64_t>(file_->run_count() - 1, 0)));
    run_->setValue(static_cast<int>(selection.run));
  }
  picked_query_ = -1;
  row_model_->set_entries({}, {});
  column_model_->set_entries({}, {});
  detail_message_->clear();
  if (file_->run_count() == 0) {
    canvas_->set_map(nullptr);
    message_->setText(
        tr("%1 has no runs: nothing recorded to show.").arg(QString::fromStdString(file_->name())));
    return;
  }
  message_->setText(tr("Reading layer %1, head %2 ...").arg(selection.layer).arg(selection.head));
  AttentionRequest request;
  request.run = selection.run;
  request.layer = selection.layer;
  request.head = selection.head;
  request.full_map_limit = limits_.full_map;
  request.pattern_block_size = limits_.pattern_block;
  request_.start([file = file_, request] { return read_attention_map(*file, request); },
                 [this](const LatestRequest<AttentionMap>::Outcome& outcome) { show(outcome); });
}

void AttentionView::show(const LatestRequest<AttentionMap>::Outcome& outcome) {
  canvas_->set_map(outcome.value);
  if (!outcome.value) {
    message_->setText(outcome.error);
    return;
  }
  const AttentionMap& map = *outcome.value;
  jump_->setRange(0, static_cast<int>(std::max<int64_t>(map.positions - 1, 0)));
  const QString what =
      map.kind == AttentionMap::Kind::kFull
          ? tr("full map, %1 tokens").arg(map.positions)
          : tr("block mass, %1 tokens in blocks of %2").arg(map.positions).arg(map.block_size);
  message_->setText(tr("run %1, layer %2, head %3: %4 (%5). Wheel: zoom, drag: pan, double "
                       "click: whole map, click: pick a query and key.")
                        .arg(map.request.run)
                        .arg(map.request.layer)
                        .arg(map.request.head)
                        .arg(what, QString::fromStdString(map.dataset)));
}

void AttentionView::refine() {
  const std::shared_ptr<const AttentionMap>& map = canvas_->map();
  if (!map || map->kind != AttentionMap::Kind::kBlocks) return;
  const PositionBox visible = canvas_->visible_positions();
  if (visible.queries() > limits_.refine || visible.keys() > limits_.refine) {
    canvas_->set_detail(nullptr);
    detail_message_->setText(tr("Zoom in to %1 positions or fewer to see exact rows or top-k "
                                "lists.")
                                 .arg(limits_.refine));
    return;
  }
  if (canvas_->detail() && canvas_->detail()->box.contains(visible)) return;
  DetailRequest request;
  request.head = map->request;
  request.box = padded(visible, limits_.refine);
  request.exact_limit = limits_.refine;
  detail_message_->setText(
      tr("Reading queries %1-%2 ...").arg(request.box.query_begin).arg(request.box.query_end - 1));
  detail_request_.start(
      [file = file_, request] { return read_attention_detail(*file, request); },
      [this](const LatestRequest<AttentionDetail>::Outcome& outcome) {
        // A detail read for an earlier head is not this map's.
        const auto& map = canvas_->map();
        if (outcome.value && map &&
            (outcome.value->request.head.run != map->request.run ||
             outcome.value->request.head.layer != map->request.layer ||
             outcome.value->request.head.head != map->request.head)) {
          return;
        }
        canvas_->set_detail(outcome.value);
        if (!outcome.value) {
          detail_message_->setText(outcome.error);
          return;
        }
        const AttentionDetail& detail = *outcome.value;
        detail_message_->setText(
            (detail.kind == AttentionDetail::Kind::kExact
                 ? tr("Exact rows of queries %1-%2 from %3.")
                 : tr("Top-%4 keys of queries %1-%2 from %3, over the block mass."))
                .arg(detail.box.query_begin)
                .arg(detail.box.query_end - 1)
                .arg(QString::fromStdString(detail.dataset))
                .arg(detail.k));
      });
}

void AttentionView::pick(int64_t query, int64_t key) {
  const std::shared_ptr<const AttentionMap>& map = canvas_->map();
  if (!map || !file_) return;
  picked_query_ = query;
  canvas_->set_marked(std::make_pair(query, key));
  slice_message_->setText(tr("Reading query %1 and key %2 ...").arg(query).arg(key));
  slice_request_.start(
      [file = file_, head = map->request, query, key] {
        return read_attention_slices(*file, head, query, key);
      },
      [this](const LatestRequest<AttentionSlices>::Outcome& outcome) { show_slices(outcome); });
}

void AttentionView::show_slices(const LatestRequest<AttentionSlices>::Outcome& outcome) {
  const std::shared_ptr<const AttentionMap>& map = canvas_->map();
  if (!outcome.value || !map) {
    slice_message_->setText(outcome.error);
    return;
  }
  const AttentionSlices& slices = *outcome.value;
  row_model_->set_entries(slices.row_top, map->token_text);
  column_model_->set_entries(slices.column_top, map->token_text);
  const auto token = [&map](int64_t position) {
    const auto i = static_cast<size_t>(position);
    return i < map->token_text.size()
               ? QStringLiteral(" '%1'").arg(QString::fromStdString(map->token_text[i]))
               : QString();
  };
  slice_message_->setText(
      tr("Query %1%2 (row: %3); key %4%5 (column: %6).")
          .arg(slices.query)
          .arg(token(slices.query), QString::fromStdString(slices.row_source))
          .arg(slices.key)
          .arg(token(slices.key), QString::fromStdString(slices.column_source)));
}

void AttentionView::jump_to(int64_t position) {
  const std::shared_ptr<const AttentionMap>& map = canvas_->map();
  if (!map || position < 0 || position >= map->positions) return;
  {
    const QSignalBlocker block(jump_);
    jump_->setValue(static_cast<int>(position));
  }
  const int64_t begin = std::max<int64_t>(0, position - kJumpSpan / 2);
  canvas_->show_positions({begin, begin + kJumpSpan, begin, begin + kJumpSpan});
  pick(position, position);
}

bool AttentionView::find_token(const QString& text) {
  const std::shared_ptr<const AttentionMap>& map = canvas_->map();
  if (!map || map->token_text.empty()) return false;
  const auto n = static_cast<int64_t>(map->token_text.size());
  for (int64_t step = 1; step <= n; ++step) {
    const int64_t i = (std::max<int64_t>(picked_query_, -1) + step) % n;
    if (QString::fromStdString(map->token_text[static_cast<size_t>(i)])
            .contains(text, Qt::CaseInsensitive)) {
      jump_to(i);
      return true;
    }
  }
  return false;
}

QString AttentionView::csv() const {
  const std::shared_ptr<const AttentionMap>& map = canvas_->map();
  if (!map) return {};
  const PositionBox visible = canvas_->visible_positions();
  const std::shared_ptr<const AttentionDetail>& detail = canvas_->detail();
  QString out;
  const auto token = [&map](int64_t position) {
    const auto i = static_cast<size_t>(position);
    return i < map->token_text.size() ? csv_text(map->token_text[i]) : QString();
  };
  // The top-k lists of the visible queries, one line per (query, key) they hold.
  if (detail && detail->kind == AttentionDetail::Kind::kTopK && detail->box.contains(visible)) {
    out += "query,query_token,key,key_token,prob\n";
    for (int64_t q = visible.query_begin; q < visible.query_end; ++q) {
      for (int64_t j = 0; j < detail->k; ++j) {
        const auto i = static_cast<size_t>((q - detail->box.query_begin) * detail->k + j);
        const int32_t key = detail->topk_index[i];
        if (key < visible.key_begin || key >= visible.key_end) continue;
        out += QStringLiteral("%1,%2,%3,%4,%5\n")
                   .arg(q)
                   .arg(token(q))
                   .arg(key)
                   .arg(token(key))
                   .arg(QString::number(detail->topk_prob[i], 'g', 9));
      }
    }
    return out;
  }
  // A matrix: one line per visible query (position or block), one column per key.
  const bool exact =
      detail && detail->kind == AttentionDetail::Kind::kExact && detail->box.contains(visible);
  const bool blocks = map->kind == AttentionMap::Kind::kBlocks && !exact;
  const int64_t bs = blocks ? map->block_size : 1;
  const int64_t row_begin = visible.query_begin / bs;
  const int64_t row_end = (visible.query_end + bs - 1) / bs;
  const int64_t col_begin = visible.key_begin / bs;
  const int64_t col_end = (visible.key_end + bs - 1) / bs;
  out += blocks ? "query_block_start\\key_block_start" : "query\\key";
  for (int64_t c = col_begin; c < col_end; ++c) out += ',' + QString::number(c * bs);
  out += '\n';
  for (int64_t r = row_begin; r < row_end; ++r) {
    out += QString::number(r * bs);
    for (int64_t c = col_begin; c < col_end; ++c) {
      const float v = exact ? detail->value(r, c) : map->at(r, c);
      out += ',' + QString::number(v, 'g', 9);
    }
    out += '\n';
  }
  return out;
}

}  // namespace headscope::gui
