// The explorer suite's main owns the QApplication, as the explorer program does; offscreen
// unless QT_QPA_PLATFORM says otherwise (the Xvfb test sets xcb). No LibTorch: this suite
// does not use tests/support/test_runner.
#include <gtest/gtest.h>
#include <QtWidgets/QApplication>

int main(int argc, char** argv) {
  if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
  QApplication app(argc, argv);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
