// The explorer as a program: its options (shared by `headscope explore` and headscope-explorer)
// and running it, interactively or to write one view as PNG, SVG or CSV (--screenshot VIEW
// --out FILE).
// Only here is a QApplication created, and only when the explorer runs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace headscope::gui {

struct ExplorerOptions {
  std::vector<std::string> files;
  std::string screenshot;  // a view name, "window" or "files"; empty: interactive
  std::string out;         // .png, .svg or .csv
  std::string quantity;    // the head grid's quantity: the first whose label contains it
  int64_t run = -1;        // -1: as the views choose
  int64_t layer = -1;
  int64_t head = -1;
  int64_t token = -1;         // the attention view jumps to it, the token view makes it the query
  std::string sparse_config;  // a folder sparse-config wrote, shown by the sparse-config view
  int width = 1280;
  int height = 800;
};

void add_explorer_options(CLI::App& app, ExplorerOptions& options);

// Interactive: returns the application's exit status. Screenshot mode: waits until every view
// has shown its data, writes the file, returns 0. InvalidInput for a file that does not open, a
// quantity no file has, a selection out of range or a --sparse-config folder the view cannot
// show in the screenshot mode, and for the
// interactive mode without a display.
int run_explorer(const ExplorerOptions& options);

}  // namespace headscope::gui
