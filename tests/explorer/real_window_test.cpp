// The explorer's window on a real X server (Xvfb, through the ctest Explorer.RealWindowUnderXvfb):
// shown, exposed, and captured from the screen, which the offscreen platform never exercises
// (window manager, xcb backing store, fonts through the X server). Skipped on other platforms.
#include <gtest/gtest.h>
#include <QtGui/QGuiApplication>
#include <QtGui/QScreen>
#include <QtTest/QTest>

#include "gui/app/main_window.h"
#include "gui/views/head_grid_view.h"
#include "tests/explorer/explorer_files.h"
#include "tests/explorer/window_wait.h"
#include "tests/support/temp_dir_test.h"

namespace headscope::gui {
namespace {

class RealWindow : public test::TempDirTest {};

TEST_F(RealWindow, ScreenCaptureOfTheShownWindowIsNotBlank) {
  if (QGuiApplication::platformName() != "xcb") {
    GTEST_SKIP() << "needs an X server (run by the ctest Explorer.RealWindowUnderXvfb)";
  }
  test::write_recording(path("a.h5"), {test::RunContents{32, true, true, 8}});
  MainWindow window;
  window.resize(1100, 700);
  window.show();
  ASSERT_TRUE(QTest::qWaitForWindowExposed(&window));
  ASSERT_TRUE(window.open_files({path("a.h5")}).empty());
  test::wait_idle(window);
  window.workspace().select({0, 0, 1, 2});
  test::wait_idle(window);
  for (const char* view : {"grid", "attention", "tokens"}) {
    window.show_view(view);
    QTest::qWait(200);  // the X server draws what the window sent
    const QImage shot = window.screen()->grabWindow(window.winId()).toImage();
    ASSERT_FALSE(shot.isNull()) << view;
    EXPECT_GE(shot.width(), 1000) << view;
    EXPECT_GT(test::colours(shot), 8u) << view;
    ASSERT_TRUE(shot.save(QString::fromStdString(path(std::string(view) + ".png"))));
  }
}

}  // namespace
}  // namespace headscope::gui
