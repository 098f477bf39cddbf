#include "gui/app/explorer.h"

#include <cstdio>
#include <memory>

#include <QtCore/QElapsedTimer>
#include <QtWidgets/QApplication>

#include "core/base/error.h"
#include "gui/app/main_window.h"
#include "gui/app/view_table.h"
#include "gui/models/open_file.h"
#include "gui/views/attention_view.h"
#include "gui/views/file_panel.h"
#include "gui/views/head_grid_view.h"
#include "gui/views/sparse_config_view.h"
#include "gui/views/token_view.h"
#include "gui/views/view_export.h"

namespace headscope::gui {
namespace {

// The screenshot mode's wait for reads; a read that takes longer is a bug, not a slow disk.
constexpr qint64 kScreenshotTimeoutMs = 120000;

std::vector<std::string> screenshot_choices() {
  std::vector<std::string> choices = {"window", "files"};
  for (const ViewEntry& entry : explorer_views()) choices.emplace_back(entry.name);
  return choices;
}

// Start-up notes (no XDG_RUNTIME_DIR on a server, ...) would clutter a script's output; real
// failures surface as errors of their own.
void quiet_qt_messages(QtMsgType type, const QMessageLogContext&, const QString& message) {
  if (type == QtCriticalMsg || type == QtFatalMsg) {
    std::fprintf(stderr, "Qt: %s\n", message.toLocal8Bit().constData());
  }
}

void wait_until_idle(const MainWindow& window) {
  QElapsedTimer timer;
  timer.start();
  // A finished read may start another (the grid's first values select a head, which the
  // attention view then reads): idle means no view busy after the events are handled.
  do {
    while (window.busy()) {
      if (timer.elapsed() > kScreenshotTimeoutMs) {
        throw IoError("--screenshot: the views' reads did not finish within " +
                      std::to_string(kScreenshotTimeoutMs / 1000) + " s");
      }
      QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents, 50);
    }
    QCoreApplication::processEvents();
  } while (window.busy());
}

// An index given on the command line (-1: not given) must name one of the file's `count`.
void check_below(const char* option, int64_t value, int64_t count, const char* what,
                 const std::string& path) {
  if (value >= count) {
    throw InvalidInput(std::string(option) + ": " + std::to_string(value) +
                       " is out of range: " + path + " has " + std::to_string(count) + " " + what);
  }
}

void select_requested(MainWindow& window, const ExplorerOptions& options) {
  auto* grid = static_cast<HeadGridView*>(window.view("grid"));
  if (!options.quantity.empty() &&
      !grid->choose_quantity(QString::fromStdString(options.quantity))) {
    throw InvalidInput("--quantity: no per-head quantity contains '" + options.quantity +
                       "'; the files have: " + grid->quantity_labels().join(", ").toStdString());
  }
  wait_until_idle(window);
  HeadSelection selection = window.workspace().selection();
  if (selection.file < 0 && !window.workspace().files().empty()) selection.file = 0;
  if (selection.file >= 0) {
    const OpenFile& file = *window.workspace().files()[static_cast<size_t>(selection.file)];
    check_below("--run", options.run, file.run_count(), "runs", file.path());
    check_below("--layer", options.layer, file.layers(), "layers", file.path());
    check_below("--head", options.head, file.heads(), "heads", file.path());
  }
  if (options.run >= 0) selection.run = options.run;
  if (options.layer >= 0) selection.layer = options.layer;
  if (options.head >= 0) selection.head = options.head;
  window.workspace().select(selection);
  wait_until_idle(window);
  if (!options.sparse_config.empty()) {
    static_cast<SparseConfigView*>(window.view("sparse"))
        ->open_folder(QString::fromStdString(options.sparse_config));
    wait_until_idle(window);
  }
  if (options.token >= 0) {
    static_cast<AttentionView*>(window.view("attention"))->jump_to(options.token);
    static_cast<TokenView*>(window.view("tokens"))->choose_query(options.token);
    wait_until_idle(window);
  }
}

// The file's name must say what to write, and the file panel has no data for CSV.
std::string check_out(const std::string& screenshot, const std::string& out) {
  const QString suffix = QString::fromStdString(out).section('.', -1).toLower();
  if (suffix != "png" && suffix != "svg" && suffix != "csv") {
    return "must end in " + std::string(kExportFormats);
  }
  if (suffix == "csv" && screenshot == "files") {
    return "the file panel has no data to write as CSV; write .png or .svg, or name a view";
  }
  return {};
}

int take_screenshot(MainWindow& window, const ExplorerOptions& options) {
  window.resize(options.width, options.height);
  window.show();
  select_requested(window, options);
  if (!options.sparse_config.empty()) {
    const auto* sparse = static_cast<SparseConfigView*>(window.view("sparse"));
    if (!sparse->shown()) throw InvalidInput("--sparse-config: " + sparse->message().toStdString());
  }
  QWidget* target = &window;
  ExplorerView* view = window.current_view();
  if (options.screenshot == "files") {
    target = window.file_panel();
    view = nullptr;
  } else if (options.screenshot != "window") {
    window.show_view(options.screenshot);
    target = view = window.view(options.screenshot);
    // Views that read only while shown (attention-compare) start reading now.
    wait_until_idle(window);
  }
  // Laid out and painted once in front: the CSV is the data of what the picture shows.
  QCoreApplication::processEvents();
  const QString csv = view ? view->csv() : QString();
  export_view(*target, csv, options.out);
  return 0;
}

}  // namespace

void add_explorer_options(CLI::App& app, ExplorerOptions& options) {
  app.add_option("FILE", options.files, "headscope files (recordings, analyses) to open")
      ->check(CLI::ExistingFile);
  auto* screenshot =
      app.add_option("--screenshot", options.screenshot,
                     "Write one view to --out instead of opening a window (no display needed)")
          ->check(CLI::IsMember(screenshot_choices()));
  auto* out = app.add_option("--out", options.out,
                             "The file --screenshot writes: FILE.png or FILE.svg (the picture), "
                             "FILE.csv (the data the view shows; window: the front tab's)");
  screenshot->needs(out);
  out->needs(screenshot);

  app.add_option("--quantity", options.quantity,
                 "The head grid's quantity: the first whose label contains this text "
                 "(e.g. 'mean entropy', 'retrieval')");
  app.add_option("--run", options.run, "Select this run")->check(CLI::Range(0, 1 << 30));
  app.add_option("--layer", options.layer, "Select a head of this layer")
      ->check(CLI::Range(0, 1 << 20));
  app.add_option("--head", options.head, "Select this head")->check(CLI::Range(0, 1 << 20));
  app.add_option("--token", options.token,
                 "Show this token: the attention view around it (its row and column listed), the "
                 "token view with it as the query")
      ->check(CLI::Range(0, 1 << 30));
  app.add_option("--sparse-config", options.sparse_config,
                 "Show this folder (what `headscope sparse-config --out` wrote: headscope or duo) "
                 "in the sparse-config view")
      ->check(CLI::ExistingDirectory);
  app.add_option("--width", options.width, "Window width for --screenshot, in pixels")
      ->check(CLI::Range(320, 8192));
  app.add_option("--height", options.height, "Window height for --screenshot, in pixels")
      ->check(CLI::Range(240, 8192));
}

int run_explorer(const ExplorerOptions& options) {
  const bool screenshot = !options.screenshot.empty();
  if (screenshot) {
    const std::string problem = check_out(options.screenshot, options.out);
    if (!problem.empty()) throw InvalidInput("--out: " + options.out + ": " + problem);
  }
  if (screenshot && qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) {
    qputenv("QT_QPA_PLATFORM", "offscreen");
  }
  if (!screenshot && qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM") &&
      qEnvironmentVariableIsEmpty("DISPLAY") && qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY")) {
    throw InvalidInput(
        "no display to open the explorer on (DISPLAY and WAYLAND_DISPLAY are unset); run it "
        "on a desktop, or write a view with --screenshot VIEW --out FILE.png");
  }
  // Restores the handler however the run ends.
  struct QuietMessages {
    QtMessageHandler previous = qInstallMessageHandler(quiet_qt_messages);
    ~QuietMessages() { qInstallMessageHandler(previous); }
  };
  std::unique_ptr<QuietMessages> quiet;
  if (screenshot) quiet = std::make_unique<QuietMessages>();
  static int argc = 1;
  static char name[] = "headscope-explorer";
  static char* argv[] = {name, nullptr};
  std::unique_ptr<QApplication> app;
  if (QCoreApplication::instance() == nullptr) app = std::make_unique<QApplication>(argc, argv);
  MainWindow window;
  const std::vector<std::string> errors = window.open_files(options.files);
  if (screenshot) {
    if (!errors.empty()) throw InvalidInput(errors.front());
    return take_screenshot(window, options);
  }
  window.resize(options.width, options.height);
  window.show();
  select_requested(window, options);
  const int status = QApplication::exec();
  return status;
}

}  // namespace headscope::gui
