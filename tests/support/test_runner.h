// The gtest runner every suite's main calls (tests/support/test_main.cpp, or a suite's own main
// that first sets up what the program would own, e.g. tests/gui/gui_test_main.cpp's
// QGuiApplication).
#pragma once

namespace headscope::test {

// Runs the tests selected by the command line. A test named *_CUDA (or *_CUDA/N when
// parameterised) needs a CUDA device: on a machine without one it is reported as skipped, with
// the reason, so gtest's summary and ctest show it instead of leaving it out.
int run_all_tests(int argc, char** argv);

}  // namespace headscope::test
