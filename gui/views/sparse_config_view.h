// The sparse-config view (/analyses/sparse_eval, docs/SPARSE_CONFIGS.md): the configs
// sparse-eval ran, each with its fraction of sparse heads and, per length, kept fraction and
// accuracy (a click chooses one); the chosen config's per-head kind, block size, top-k blocks,
// sink or window as a layer x head grid, hover for a head's value and a click selecting it for
// every view; Export config writes the chosen config in each format `headscope sparse-config`
// writes that a config can be written in (gui/models/sparse_config_export.h), and MoA and
// MInference configs fitted to the selected recording's attention statistics by running
// `headscope sparse-config` (gui/models/sparse_config_run.h). Open config folder shows a folder
// sparse-config wrote instead. Read on a worker thread, once per file.
#pragma once

#include <memory>

#include "core/checkpoint/sparse_config_files.h"
#include "gui/models/latest_request.h"
#include "gui/models/sparse_config_run.h"
#include "gui/models/sparse_eval_configs.h"
#include "gui/models/workspace.h"
#include "gui/views/explorer_view.h"

class QComboBox;
class QLabel;
class QMenu;
class QStandardItemModel;
class QTableView;
class QToolButton;

namespace headscope::gui {

class HeadGridCanvas;

class SparseConfigView : public ExplorerView {
  Q_OBJECT

 public:
  explicit SparseConfigView(Workspace& workspace, QWidget* parent = nullptr);

  QString message() const;
  std::shared_ptr<const SparseEvalConfigs> shown() const { return shown_; }
  // Shows config `index` (of shown()->names) and a field; false when out of range.
  bool choose_config(int index);
  void choose_field(SparseEvalConfigs::Field field);
  std::shared_ptr<const HeadValues> grid_values() const { return grid_values_; }
  HeadGridCanvas* grid() const { return grid_; }
  QStandardItemModel* config_model() const { return configs_; }
  // Writes the chosen config in `format` into `dir` (what the Export config menu does after
  // asking for the folder); the message says what was written or why nothing was. MoA and
  // MInference: starts `headscope sparse-config` on the selected recording, true when it
  // started; busy() until it ends, then the message says what it wrote or why it failed, and
  // shows its output meanwhile.
  bool export_config(SparseFormat format, const QString& dir);
  // Stops a running MoA or MInference export.
  void cancel_export();
  QMenu* export_menu() const { return export_menu_; }
  // Where the headscope program is looked for (find_headscope_program); by default the
  // explorer's own directory.
  void set_program_dir(const QString& dir) { program_dir_ = dir; }
  // Shows the config of a folder `headscope sparse-config --out` wrote (headscope or duo;
  // gui/models/sparse_config_folder.h) in place of the selected file's until another file is
  // selected; the selected (else the first) open file's model expands DuoAttention's gates.
  // The message says why when it cannot.
  void open_folder(const QString& dir);
  bool busy() const override { return request_.busy() || fit_run_->running(); }
  // The chosen config's heads: layer, head and every field.
  QString csv() const override;

 private:
  void follow_selection(const HeadSelection& selection);
  void show(const LatestRequest<SparseEvalConfigs>::Outcome& outcome);
  void show_grid();
  bool start_fit(SparseFormat format, const QString& dir);
  void enable_fitted_formats();
  QString selected_name() const;
  QString no_statistics_reason(SparseFormat format) const;

  Workspace& workspace_;
  LatestRequest<SparseEvalConfigs> request_{this};
  int shown_file_ = -1;
  int config_ = -1;
  std::shared_ptr<const SparseEvalConfigs> shown_;
  std::shared_ptr<const HeadValues> grid_values_;
  QLabel* message_;
  QComboBox* field_;
  QStandardItemModel* configs_;
  QTableView* config_table_;
  HeadGridCanvas* grid_;
  QMenu* export_menu_;
  QToolButton* cancel_button_;
  SparseConfigRun* fit_run_;
  QString program_dir_;
  bool statistics_ = false;  // the selected file holds attention statistics
};

}  // namespace headscope::gui
