#include "gui/views/compare_view.h"

#include <QtWidgets/QGridLayout>
#include <QtWidgets/QLabel>
#include <QtWidgets/QVBoxLayout>

#include "gui/views/ab_choice.h"
#include "gui/views/file_quantities.h"
#include "gui/views/head_grid_canvas.h"
#include "gui/views/line_chart_canvas.h"

namespace headscope::gui {
namespace {

QString number(double v) {
  return QString::number(v, 'g', 17);
}

}  // namespace

CompareView::CompareView(Workspace& workspace, QWidget* parent)
    : ExplorerView(parent),
      workspace_(workspace),
      message_(new QLabel(this)),
      choice_(new AbChoice(this)),
      query_message_(new QLabel(this)),
      query_chart_(new LineChartCanvas(this)) {
  message_->setWordWrap(true);
  message_->setText(tr("Open two files (or one with two runs) to compare a per-head quantity."));
  auto* grids = new QGridLayout;
  const QString titles[] = {tr("A"), tr("B"), tr("A - B")};
  for (int i = 0; i < 3; ++i) {
    grids_[i] = new HeadGridCanvas(this);
    grids_[i]->on_click([this](HeadCell cell) { workspace_.select_head(cell.layer, cell.head); });
    grids->addWidget(new QLabel(titles[i], this), 0, i, Qt::AlignHCenter);
    grids->addWidget(grids_[i], 1, i);
    grids->setColumnStretch(i, 1);
  }
  grids->setRowStretch(1, 1);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(message_);
  layout->addWidget(choice_);
  layout->addLayout(grids, 1);
  query_message_->setWordWrap(true);
  layout->addWidget(query_message_);
  layout->addWidget(query_chart_, 1);
  choice_->on_change([this] { request(); });
  connect(&workspace_, &Workspace::file_added, this, [this](int file) { add_quantities(file); });
  connect(&workspace_, &Workspace::selection_changed, this,
          [this](const HeadSelection& selection) { follow_selection(selection); });
  for (int file = 0; file < static_cast<int>(workspace_.files().size()); ++file) {
    add_quantities(file);
  }
}

QString CompareView::message() const {
  return message_->text();
}

QStringList CompareView::choices() const {
  return choice_->labels();
}

bool CompareView::choose(const QString& a, const QString& b) {
  if (!choice_->set(a, b)) return false;
  request();
  return true;
}

void CompareView::add_quantities(int file) {
  std::optional<std::vector<HeadQuantity>> found = file_quantities(workspace_, file, *message_);
  if (!found) return;
  const OpenFile& open = *workspace_.files()[static_cast<size_t>(file)];
  const bool first = entries_.empty();
  for (HeadQuantity& quantity : *found) {
    const QString label = QString::fromStdString(open.name() + ": " + quantity.label);
    entries_.push_back({file, std::move(quantity)});
    choice_->add(label);
  }
  if (entries_.empty()) return;
  if (first) {
    // Until a second file comes: A and B two quantities (or runs) of this one.
    choice_->set(0, entries_.size() > 1 ? 1 : 0);
  } else {
    // A second file: B becomes A's quantity in it, when it has one.
    const HeadQuantity& a = entries_[static_cast<size_t>(choice_->a())].quantity;
    for (size_t i = 0; i < entries_.size(); ++i) {
      if (entries_[i].file == file && entries_[i].quantity.label == a.label) {
        choice_->set(choice_->a(), static_cast<int>(i));
        break;
      }
    }
  }
  request();
}

void CompareView::request() {
  const int a = choice_->a(), b = choice_->b();
  if (a < 0 || b < 0) return;
  const Entry& ea = entries_[static_cast<size_t>(a)];
  const Entry& eb = entries_[static_cast<size_t>(b)];
  std::shared_ptr<const OpenFile> fa = workspace_.files()[static_cast<size_t>(ea.file)];
  std::shared_ptr<const OpenFile> fb = workspace_.files()[static_cast<size_t>(eb.file)];
  message_->setText(tr("Reading %1 and %2 ...").arg(choice_->a_text(), choice_->b_text()));
  request_.start([fa, fb, qa = ea.quantity,
                  qb = eb.quantity] { return compare_head_values(*fa, qa, *fb, qb); },
                 [this](const LatestRequest<HeadComparison>::Outcome& outcome) { show(outcome); });
  query_layer_ = query_head_ = -1;
  request_queries();
}

QString CompareView::query_message() const {
  return query_message_->text();
}

void CompareView::request_queries() {
  const int a = choice_->a(), b = choice_->b();
  const HeadSelection& s = workspace_.selection();
  if (a < 0 || b < 0 || s.file < 0) return;
  if (s.layer == query_layer_ && s.head == query_head_) return;
  const Entry& ea = entries_[static_cast<size_t>(a)];
  const Entry& eb = entries_[static_cast<size_t>(b)];
  query_layer_ = s.layer;
  query_head_ = s.head;
  queries_shown_ = nullptr;
  query_chart_->set_chart({});
  if (!has_query_values(ea.quantity) || !has_query_values(eb.quantity)) {
    query_request_.cancel();
    query_message_->setText(
        tr("Choose two run statistics (\"run N: mean ...\") as A and B to compare the selected "
           "head query by query."));
    return;
  }
  std::shared_ptr<const OpenFile> fa = workspace_.files()[static_cast<size_t>(ea.file)];
  std::shared_ptr<const OpenFile> fb = workspace_.files()[static_cast<size_t>(eb.file)];
  query_message_->setText(
      tr("Reading layer %1, head %2 at every query ...").arg(s.layer).arg(s.head));
  query_request_.start(
      [fa, fb, qa = ea.quantity, qb = eb.quantity, layer = s.layer, head = s.head] {
        return compare_head_queries(*fa, qa, *fb, qb, layer, head);
      },
      [this](const LatestRequest<QueryComparison>::Outcome& outcome) { show_queries(outcome); });
}

void CompareView::show_queries(const LatestRequest<QueryComparison>::Outcome& outcome) {
  queries_shown_ = outcome.value;
  if (!queries_shown_) {
    query_message_->setText(outcome.error);
    return;
  }
  auto series = [](QString name, QColor colour, const auto& values) {
    ChartSeries out{std::move(name), colour, {}, {}};
    for (size_t q = 0; q < values.size(); ++q) {
      out.x.push_back(static_cast<double>(q));
      out.y.push_back(static_cast<double>(values[q]));
    }
    return out;
  };
  LineChart chart;
  chart.title = tr("layer %1, head %2 at every query").arg(query_layer_).arg(query_head_);
  chart.x_label = tr("query position");
  const std::string& stat_a = queries_shown_->a.request.statistic;
  const std::string& stat_b = queries_shown_->b.request.statistic;
  chart.y_label =
      QString::fromStdString(stat_a == stat_b ? stat_a : "A: " + stat_a + ", B: " + stat_b);
  chart.series = {series(tr("A"), QColor(40, 110, 170), queries_shown_->a.values),
                  series(tr("B"), QColor(230, 120, 30), queries_shown_->b.values),
                  series(tr("A - B"), QColor(90, 90, 90), queries_shown_->difference)};
  query_chart_->set_chart(std::move(chart));
  query_message_->setText(
      tr("Layer %1, head %2: A (%3 queries), B (%4) and A - B at the queries both have.")
          .arg(query_layer_)
          .arg(query_head_)
          .arg(queries_shown_->a.values.size())
          .arg(queries_shown_->b.values.size()));
}

void CompareView::show(const LatestRequest<HeadComparison>::Outcome& outcome) {
  shown_ = outcome.value;
  if (!shown_) {
    for (HeadGridCanvas* grid : grids_) grid->set_values(nullptr);
    message_->setText(outcome.error);
    return;
  }
  // Aliasing pointers: the grids share the comparison's values, no copies.
  grids_[0]->set_values(std::shared_ptr<const HeadValues>(shown_, &shown_->a));
  grids_[1]->set_values(std::shared_ptr<const HeadValues>(shown_, &shown_->b));
  grids_[2]->set_values(std::shared_ptr<const HeadValues>(shown_, &shown_->difference));
  follow_selection(workspace_.selection());
  message_->setText(tr("A: %1; B: %2; right: A - B, head by head. A click selects a head.")
                        .arg(choice_->a_text(), choice_->b_text()));
}

void CompareView::follow_selection(const HeadSelection& selection) {
  request_queries();
  for (HeadGridCanvas* grid : grids_) {
    grid->set_selected(selection.file < 0 || !shown_
                           ? std::nullopt
                           : std::optional<HeadCell>(HeadCell{static_cast<int>(selection.layer),
                                                              static_cast<int>(selection.head)}));
  }
}

QString CompareView::csv() const {
  if (!shown_) return {};
  QString out = "layer,head,A,B,A - B\n";
  for (int64_t l = 0; l < shown_->a.layers; ++l) {
    for (int64_t h = 0; h < shown_->a.heads; ++h) {
      out += QStringLiteral("%1,%2,%3,%4,%5\n")
                 .arg(l)
                 .arg(h)
                 .arg(number(shown_->a.at(l, h)), number(shown_->b.at(l, h)),
                      number(shown_->difference.at(l, h)));
    }
  }
  return out;
}

}  // namespace headscope::gui
