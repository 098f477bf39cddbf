// The token view: 128K tokens lay out and paint only the lines in view, and the colours shown
// are those of the file's attention row (or statistic) for the selected head.
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <QtWidgets/QScrollBar>

#include "gui/app/main_window.h"
#include "gui/views/token_canvas.h"
#include "gui/views/token_view.h"
#include "tests/explorer/explorer_files.h"
#include "tests/explorer/window_wait.h"
#include "tests/support/temp_dir_test.h"

namespace headscope::gui {
namespace {

// The pixel at a token's top-left corner, inside its background and above its text.
QRgb background(TokenCanvas& canvas, int64_t position) {
  const QImage image = canvas.viewport()->grab().toImage();
  const QRect rect = canvas.token_rect(position);
  const qreal scale = image.devicePixelRatio();
  return image.pixel(static_cast<int>((rect.left() + 1) * scale),
                     static_cast<int>((rect.top() + 1) * scale));
}

TEST(TokenCanvas, LaysOutOnlyTheVisibleTokensOf128K) {
  auto values = std::make_shared<TokenValues>();
  constexpr int64_t kTokens = 131072;
  for (int64_t i = 0; i < kTokens; ++i) {
    values->text.push_back(i % 11 == 0 ? "a longer token" : "t" + std::to_string(i % 100));
    values->values.push_back(static_cast<float>(i % 17) / 16.0f);
  }
  TokenCanvas canvas;
  canvas.resize(800, 600);
  canvas.show();
  canvas.set_values(values);
  canvas.viewport()->grab();
  auto [first, last] = canvas.painted();
  EXPECT_EQ(first, 0);
  // A 600-pixel viewport holds a few dozen lines of at most ~100 characters.
  EXPECT_GT(last, 100);
  EXPECT_LT(last - first, 5000);

  canvas.scroll_to(100000);
  canvas.viewport()->grab();
  std::tie(first, last) = canvas.painted();
  EXPECT_LE(first, 100000);
  EXPECT_GT(last, 100000);
  EXPECT_LT(last - first, 5000);
  for (int64_t i : {(first + last) / 2, (first + last) / 2 + 1, int64_t{100000}}) {
    ASSERT_TRUE(canvas.viewport()->rect().contains(canvas.token_rect(i))) << i;
    EXPECT_EQ(background(canvas, i), canvas.colour(values->values[static_cast<size_t>(i)]).rgb())
        << i;
  }
  // The largest value has the strongest colour, 0 is white.
  EXPECT_EQ(canvas.colour(0.0f), QColor(Qt::white));
  EXPECT_NE(canvas.colour(1.0f), canvas.colour(0.5f));
}

class TokenViewTest : public test::TempDirTest {
 protected:
  void TearDown() override {
    window_.reset();
    TempDirTest::TearDown();
  }
  std::unique_ptr<MainWindow> window_;
};

TEST_F(TokenViewTest, ColoursAreTheFilesRowOrStatistic) {
  test::write_recording(path("a.h5"), {test::RunContents{64, true, true, 8}}, false);
  window_ = std::make_unique<MainWindow>();
  window_->resize(1200, 800);
  window_->show();
  ASSERT_TRUE(window_->open_files({path("a.h5")}).empty());
  window_->show_view("tokens");
  window_->workspace().select({0, 0, 1, 2});
  test::wait_idle(*window_);
  auto& view = *static_cast<TokenView*>(window_->view("tokens"));
  TokenCanvas& canvas = *view.canvas();
  ASSERT_NE(canvas.values(), nullptr) << view.message().toStdString();
  // The last token is the first query shown.
  EXPECT_EQ(canvas.values()->request.query, 63);
  view.choose_query(30);
  test::wait_idle(*window_);
  const auto& values = *canvas.values();
  ASSERT_EQ(values.values.size(), 64u);
  for (int64_t k = 0; k < 64; ++k) {
    EXPECT_EQ(values.values[static_cast<size_t>(k)], test::pattern_value(1, 2, 30, k)) << k;
  }
  EXPECT_EQ(values.text[5], "tok5");
  for (int64_t k : {0, 20, 30, 31}) {
    EXPECT_EQ(background(canvas, k), canvas.colour(test::pattern_value(1, 2, 30, k)).rgb()) << k;
  }
  EXPECT_TRUE(view.csv().startsWith("position,token,prob_from_query_30\n0,\"tok0\","));

  view.choose_statistic("entropy");
  test::wait_idle(*window_);
  ASSERT_NE(canvas.values(), nullptr) << view.message().toStdString();
  for (int64_t q = 0; q < 64; ++q) {
    EXPECT_EQ(canvas.values()->values[static_cast<size_t>(q)], test::statistic_value(0, 1, 2, q));
  }
}

}  // namespace
}  // namespace headscope::gui
