// A fixture for tests of one explorer view: a shown 1200 x 800 window with files open on the
// view's tab, a head selected and every read done; the window closes before the scratch folder
// is removed.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "gui/app/main_window.h"
#include "tests/explorer/window_wait.h"
#include "tests/support/temp_dir_test.h"

namespace headscope::test {

class WindowTest : public TempDirTest {
 protected:
  void TearDown() override {
    window_.reset();
    TempDirTest::TearDown();
  }

  // `selection` unset: what opening the files selects.
  template <class View>
  View& open_view(const std::vector<std::string>& files, const std::string& view,
                  std::optional<gui::HeadSelection> selection) {
    window_ = std::make_unique<gui::MainWindow>();
    window_->resize(1200, 800);
    window_->show();
    EXPECT_TRUE(window_->open_files(files).empty());
    window_->show_view(view);
    if (selection) window_->workspace().select(*selection);
    wait_idle(*window_);
    return *static_cast<View*>(window_->view(view));
  }

  std::unique_ptr<gui::MainWindow> window_;
};

}  // namespace headscope::test
