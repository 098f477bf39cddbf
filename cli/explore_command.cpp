// `headscope explore [FILE.h5 ...]`: the desktop explorer (gui/app), the same program as
// headscope-explorer. Only this command creates a QApplication; every other command stays
// headless.
#include <memory>

#include "cli/explore_command.h"
#include "core/base/error.h"

#if HEADSCOPE_WITH_EXPLORER
#include "gui/app/explorer.h"
#endif

namespace headscope::cli {

void add_explore_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "explore",
      "Browse recordings and analyses in the desktop explorer (Qt 6), or write a "
      "view as PNG or SVG, or its data as CSV, with --screenshot");
#if HEADSCOPE_WITH_EXPLORER
  auto options = std::make_shared<gui::ExplorerOptions>();
  gui::add_explorer_options(*cmd, *options);
  cmd->callback([options] {
    const int status = gui::run_explorer(*options);
    if (status != 0) throw IoError("the explorer ended with status " + std::to_string(status));
  });
#else
  cmd->allow_extras();
  cmd->callback([] {
    throw InvalidInput(
        "this headscope was built without Qt 6 Widgets or Qt SVG, so it has no explorer (Debian: "
        "qt6-base-dev qt6-svg-dev; then rebuild)");
  });
#endif
}

}  // namespace headscope::cli
