// What the explorer's widget tests share: waiting until every view's reads are done, and
// telling a drawn picture from a blank one.
#pragma once

#include <set>

#include <gtest/gtest.h>
#include <QtCore/QCoreApplication>
#include <QtCore/QElapsedTimer>
#include <QtGui/QImage>

#include "gui/app/main_window.h"

namespace headscope::test {

// A finished read may start another (a head's map, then its refinement): idle is no view busy
// after the events are handled.
inline void wait_idle(const gui::MainWindow& window) {
  QElapsedTimer timer;
  timer.start();
  do {
    while (window.busy() && timer.elapsed() < 20000) QCoreApplication::processEvents();
    QCoreApplication::processEvents();
  } while (window.busy() && timer.elapsed() < 20000);
  ASSERT_FALSE(window.busy());
}

// Distinct colours in a grab: a blank or single-colour widget has one or two.
inline size_t colours(const QImage& image) {
  std::set<QRgb> seen;
  for (int y = 0; y < image.height(); y += 2) {
    for (int x = 0; x < image.width(); x += 2) seen.insert(image.pixel(x, y));
  }
  return seen.size();
}

}  // namespace headscope::test
