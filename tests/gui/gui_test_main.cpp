// The gui suite's main owns the QGuiApplication, as a program drawing with headscope_gui does
// (the library creates none); offscreen unless QT_QPA_PLATFORM says otherwise.
#include <QtGui/QGuiApplication>

#include "tests/support/test_runner.h"

int main(int argc, char** argv) {
  if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
  QGuiApplication app(argc, argv);
  return headscope::test::run_all_tests(argc, argv);
}
