// Where headscope's bundled data lives (the zoo's models and recipes), found from the running
// executable rather than compiled in, so an installed or moved binary finds it:
//   installed:  PREFIX/bin/headscope        -> PREFIX/share/headscope/{models,recipes}
//   build tree: build/cli/headscope (and build/tests/*, build/bench/*)
//                                           -> build/share/headscope/, links to zoo/ made by CMake
// HEADSCOPE_DATA_DIR, when set, overrides both.
#pragma once

#include <filesystem>
#include <string>

namespace headscope {

// The data directory; IoError saying where it looked when it does not exist.
std::filesystem::path data_dir();

// data_dir() / relative, which must exist (IoError naming it and what it is for otherwise).
std::filesystem::path data_path(const std::string& relative, const std::string& what);

}  // namespace headscope
