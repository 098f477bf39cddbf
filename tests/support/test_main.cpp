// gtest main of every suite that needs nothing set up before its tests.
#include "tests/support/test_runner.h"

int main(int argc, char** argv) { return headscope::test::run_all_tests(argc, argv); }
