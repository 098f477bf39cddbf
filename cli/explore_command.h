// `headscope explore`, declared apart from commands.h: the command sources, each compiled with
// LibTorch's headers, then do not depend on the explorer's declaration.
#pragma once

#include <CLI/CLI.hpp>

namespace headscope::cli {

void add_explore_command(CLI::App& app);

}  // namespace headscope::cli
