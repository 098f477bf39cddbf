// headscope-explorer: the desktop explorer on its own (the same as `headscope explore`, without
// LibTorch). Errors end in one line on stderr and exit status 1.
#include <exception>
#include <iostream>

#include <CLI/CLI.hpp>

#include "gui/app/explorer.h"

int main(int argc, char** argv) {
  CLI::App app{"headscope-explorer: browse headscope recordings and analyses"};
  headscope::gui::ExplorerOptions options;
  headscope::gui::add_explorer_options(app, options);
  try {
    app.parse(argc, argv);
    return headscope::gui::run_explorer(options);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "headscope-explorer: error: " << e.what()
              << " (see `headscope-explorer --help`)\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "headscope-explorer: error: " << e.what() << "\n";
    return 1;
  }
}
