#include "gui/views/sparse_config_view.h"

#include <QtCore/QCoreApplication>
#include <QtGui/QStandardItemModel>
#include <QtWidgets/QComboBox>
#include <QtWidgets/QFileDialog>
#include <QtWidgets/QHBoxLayout>
#include <QtWidgets/QLabel>
#include <QtWidgets/QMenu>
#include <QtWidgets/QSplitter>
#include <QtWidgets/QTableView>
#include <QtWidgets/QToolButton>
#include <QtWidgets/QVBoxLayout>

#include "core/base/error.h"
#include "gui/models/hdf5_lock.h"
#include "gui/models/sparse_config_export.h"
#include "gui/models/sparse_config_folder.h"
#include "gui/views/head_grid_canvas.h"
#include "gui/views/row_table.h"

namespace headscope::gui {
SparseConfigView::SparseConfigView(Workspace& workspace, QWidget* parent)
    : ExplorerView(parent),
      workspace_(workspace),
      message_(new QLabel(this)),
      field_(new QComboBox(this)),
      configs_(new QStandardItemModel(this)),
      config_table_(make_row_table(configs_, this)),
      grid_(new HeadGridCanvas(this)),
      export_menu_(new QMenu(this)),
      cancel_button_(new QToolButton(this)),
      fit_run_(new SparseConfigRun(this)),
      program_dir_(QCoreApplication::applicationDirPath()) {
  message_->setWordWrap(true);
  message_->setText(
      tr("Open a file with a sparse-eval analysis (headscope sparse-eval --out), "
         "which holds every config it ran."));
  for (int f = 0; f < SparseEvalConfigs::kFieldCount; ++f) {
    field_->addItem(sparse_field_name(static_cast<SparseEvalConfigs::Field>(f)));
  }
  export_menu_->setToolTipsVisible(true);
  for (SparseFormat format : kSparseFormats) {
    QAction* action = export_menu_->addAction(sparse_format_name(format));
    action->setData(static_cast<int>(format));
    action->setEnabled(exportable_format(format));
    action->setToolTip(QString::fromStdString(unexportable_reason(format)));
    connect(action, &QAction::triggered, this, [this, format] {
      const QString dir = QFileDialog::getExistingDirectory(
          this, tr("Write the %1 config into").arg(sparse_format_name(format)));
      if (!dir.isEmpty()) export_config(format, dir);
    });
  }
  enable_fitted_formats();
  auto* export_button = new QToolButton(this);
  export_button->setText(tr("Export config"));
  export_button->setMenu(export_menu_);
  export_button->setPopupMode(QToolButton::InstantPopup);
  cancel_button_->setText(tr("Cancel export"));
  cancel_button_->setVisible(false);
  connect(cancel_button_, &QToolButton::clicked, this, [this] { cancel_export(); });
  connect(fit_run_, &SparseConfigRun::output, this, [this](const QString& line) {
    message_->setText(message_->text().section('\n', 0, 0) + '\n' + line);
  });
  connect(fit_run_, &SparseConfigRun::finished, this, [this](bool, const QString& message) {
    cancel_button_->setVisible(false);
    message_->setText(message);
  });
  auto* folder_button = new QToolButton(this);
  folder_button->setText(tr("Open config folder"));
  folder_button->setToolTip(tr("A folder headscope sparse-config --out wrote (headscope or duo)"));
  connect(folder_button, &QToolButton::clicked, this, [this] {
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Open a sparse-config folder"));
    if (!dir.isEmpty()) open_folder(dir);
  });
  auto* field_row = new QHBoxLayout;
  field_row->addWidget(new QLabel(tr("Per-head field:"), this));
  field_row->addWidget(field_, 1);
  field_row->addWidget(export_button);
  field_row->addWidget(cancel_button_);
  field_row->addWidget(folder_button);
  auto* grid_box = new QWidget(this);
  auto* grid_layout = new QVBoxLayout(grid_box);
  grid_layout->setContentsMargins(0, 0, 0, 0);
  grid_layout->addLayout(field_row);
  grid_layout->addWidget(grid_, 1);
  auto* splitter = new QSplitter(this);
  splitter->addWidget(config_table_);
  splitter->addWidget(grid_box);
  splitter->setStretchFactor(0, 1);
  splitter->setStretchFactor(1, 1);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(message_);
  layout->addWidget(splitter, 1);
  grid_->on_click([this](HeadCell cell) { workspace_.select_head(cell.layer, cell.head); });
  connect(config_table_, &QTableView::clicked, this,
          [this](const QModelIndex& index) { choose_config(index.row()); });
  connect(field_, qOverload<int>(&QComboBox::currentIndexChanged), this,
          [this](int) { show_grid(); });
  connect(&workspace_, &Workspace::selection_changed, this,
          [this](const HeadSelection& selection) { follow_selection(selection); });
  follow_selection(workspace_.selection());
}

QString SparseConfigView::message() const {
  return message_->text();
}

bool SparseConfigView::choose_config(int index) {
  if (!shown_ || index < 0 || index >= static_cast<int>(shown_->names.size())) return false;
  config_ = index;
  config_table_->selectRow(index);
  show_grid();
  return true;
}

bool SparseConfigView::export_config(SparseFormat format, const QString& dir) {
  if (fitted_format(format)) return start_fit(format, dir);
  if (!shown_ || config_ < 0) {
    message_->setText(tr("No config is shown to export."));
    return false;
  }
  try {
    const std::vector<std::string> files =
        export_sparse_eval_config(*shown_, static_cast<size_t>(config_), format, dir.toStdString());
    QStringList names;
    for (const std::string& file : files) names << QString::fromStdString(file);
    message_->setText(tr("Wrote %1 config %2: %3")
                          .arg(sparse_format_name(format),
                               QString::fromStdString(shown_->names[static_cast<size_t>(config_)]),
                               names.join(", ")));
    return true;
  } catch (const Error& e) {
    message_->setText(QString::fromStdString(e.what()));
    return false;
  }
}

bool SparseConfigView::start_fit(SparseFormat format, const QString& dir) {
  if (fit_run_->running()) {
    message_->setText(tr("An export is running: wait for it or cancel it."));
    return false;
  }
  if (!statistics_) {
    message_->setText(no_statistics_reason(format));
    return false;
  }
  const QString program = find_headscope_program(program_dir_);
  if (program.isEmpty()) {
    message_->setText(missing_program_message(program_dir_));
    return false;
  }
  const QString recording =
      QString::fromStdString(workspace_.files()[static_cast<size_t>(shown_file_)]->path());
  // Shown first: a program that cannot start reports it within start().
  cancel_button_->setVisible(true);
  message_->setText(tr("Fitting the %1 config to %2's attention statistics (headscope "
                       "sparse-config, into %3) ...")
                        .arg(sparse_format_name(format), recording, dir));
  fit_run_->start(program, recording, format, dir);
  return true;
}

void SparseConfigView::cancel_export() {
  fit_run_->cancel();
}

QString SparseConfigView::selected_name() const {
  if (shown_file_ < 0) return {};
  return QString::fromStdString(workspace_.files()[static_cast<size_t>(shown_file_)]->name());
}

QString SparseConfigView::no_statistics_reason(SparseFormat format) const {
  if (shown_file_ < 0) {
    return tr("%1: fitted to attention statistics; select a recording that holds them (headscope "
              "record --attention stats)")
        .arg(sparse_format_name(format));
  }
  return tr("%1: fitted to attention statistics, which %2 does not hold (headscope record "
            "--attention stats records them)")
      .arg(sparse_format_name(format), selected_name());
}

void SparseConfigView::enable_fitted_formats() {
  for (QAction* action : export_menu_->actions()) {
    const auto format = static_cast<SparseFormat>(action->data().toInt());
    if (!fitted_format(format)) continue;
    action->setEnabled(statistics_);
    action->setToolTip(statistics_
                           ? tr("Fitted to %1's attention statistics by headscope sparse-config")
                                 .arg(selected_name())
                           : no_statistics_reason(format));
  }
}

void SparseConfigView::choose_field(SparseEvalConfigs::Field field) {
  field_->setCurrentIndex(field);
}

void SparseConfigView::follow_selection(const HeadSelection& selection) {
  if (selection.file < 0) return;
  if (selection.file == shown_file_) {
    grid_->set_selected(
        HeadCell{static_cast<int>(selection.layer), static_cast<int>(selection.head)});
    return;
  }
  shown_file_ = selection.file;
  shown_ = nullptr;
  request_.cancel();
  config_ = -1;
  configs_->clear();
  show_grid();
  std::shared_ptr<const OpenFile> file = workspace_.files()[static_cast<size_t>(selection.file)];
  statistics_ = has_attention_statistics(*file);
  enable_fitted_formats();
  if (!has_sparse_eval_configs(*file)) {
    message_->setText(tr("%1 has no sparse-eval analysis (%2; headscope sparse-eval --out writes "
                         "it with every config it ran).")
                          .arg(QString::fromStdString(file->name()), kSparseEvalPath));
    return;
  }
  message_->setText(tr("Reading %1 ...").arg(kSparseEvalPath));
  request_.start(
      [file] { return read_sparse_eval_configs(*file); },
      [this](const LatestRequest<SparseEvalConfigs>::Outcome& outcome) { show(outcome); });
}

void SparseConfigView::open_folder(const QString& dir) {
  const std::vector<std::shared_ptr<const OpenFile>>& files = workspace_.files();
  const int selected = workspace_.selection().file;
  std::shared_ptr<const OpenFile> model_file = selected >= 0
                                                   ? files[static_cast<size_t>(selected)]
                                                   : (files.empty() ? nullptr : files.front());
  request_.cancel();
  shown_ = nullptr;
  config_ = -1;
  configs_->clear();
  show_grid();
  message_->setText(tr("Reading %1 ...").arg(dir));
  request_.start(
      [path = dir.toStdString(), model_file] {
        std::optional<ModelShape> model;
        if (model_file) {
          auto lock = hdf5_lock();
          const ModelSummary& m = model_file->reader().model();
          model = ModelShape{m.n_layers, m.n_heads, m.n_kv_heads};
        }
        return read_sparse_config_folder(path, model);
      },
      [this](const LatestRequest<SparseEvalConfigs>::Outcome& outcome) { show(outcome); });
}

void SparseConfigView::show(const LatestRequest<SparseEvalConfigs>::Outcome& outcome) {
  shown_ = outcome.value;
  if (!shown_) {
    message_->setText(outcome.error);
    return;
  }
  QStringList header = {tr("config"), tr("sparse heads")};
  for (double length : shown_->lengths) header << tr("kept @%1").arg(length);
  for (double length : shown_->lengths) header << tr("accuracy @%1").arg(length);
  configs_->setHorizontalHeaderLabels(header);
  for (size_t c = 0; c < shown_->names.size(); ++c) {
    QList<QStandardItem*> row = {new QStandardItem(QString::fromStdString(shown_->names[c])),
                                 number_item(shown_->sparse_heads[c])};
    for (size_t n = 0; n < shown_->lengths.size(); ++n) row << number_item(shown_->kept(c, n));
    for (size_t n = 0; n < shown_->lengths.size(); ++n)
      row << number_item(shown_->accuracy_at(c, n));
    configs_->appendRow(row);
  }
  // The first config after dense: the one a user came to see.
  choose_config(shown_->names.size() > 1 ? 1 : 0);
  const HeadSelection& s = workspace_.selection();
  grid_->set_selected(HeadCell{static_cast<int>(s.layer), static_cast<int>(s.head)});
  if (shown_->analysis.empty()) {
    message_->setText(tr("%1: the %2 config sparse-config wrote (not run: no kept fractions or "
                         "accuracies); kind codes: %3.")
                          .arg(QString::fromStdString(shown_->path),
                               QString::fromStdString(shown_->names.front()),
                               QString::fromStdString(shown_->kind_codes)));
    return;
  }
  message_->setText(tr("%1 configs at %2 lengths. Click a config to show its heads; kind codes: "
                       "%3.")
                        .arg(shown_->names.size())
                        .arg(shown_->lengths.size())
                        .arg(QString::fromStdString(shown_->kind_codes)));
}

void SparseConfigView::show_grid() {
  if (!shown_ || config_ < 0) {
    grid_values_ = nullptr;
    grid_->set_values(nullptr);
    return;
  }
  grid_values_ = std::make_shared<const HeadValues>(shown_->head_field(
      static_cast<size_t>(config_), static_cast<SparseEvalConfigs::Field>(field_->currentIndex())));
  grid_->set_values(grid_values_);
}

QString SparseConfigView::csv() const {
  if (!shown_ || config_ < 0) return {};
  QString out = "config,layer,head";
  for (int f = 0; f < SparseEvalConfigs::kFieldCount; ++f) {
    out += QStringLiteral(",") + sparse_field_name(static_cast<SparseEvalConfigs::Field>(f));
  }
  out += '\n';
  const auto c = static_cast<size_t>(config_);
  const size_t size = static_cast<size_t>(shown_->layers * shown_->heads);
  for (int64_t l = 0; l < shown_->layers; ++l) {
    for (int64_t h = 0; h < shown_->heads; ++h) {
      out += QStringLiteral("\"%1\",%2,%3")
                 .arg(QString::fromStdString(shown_->names[c]))
                 .arg(l)
                 .arg(h);
      for (int f = 0; f < SparseEvalConfigs::kFieldCount; ++f) {
        out += ',' + QString::number(
                         shown_->fields[f][c * size + static_cast<size_t>(l * shown_->heads + h)],
                         'g', 17);
      }
      out += '\n';
    }
  }
  return out;
}

}  // namespace headscope::gui
