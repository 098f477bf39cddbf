// PNG files appear whole or not at all, and read back with the drawn pixels.
#include <filesystem>

#include <gtest/gtest.h>
#include <QtGui/QImage>

#include "core/base/error.h"
#include "gui/render/png_file.h"
#include "tests/support/temp_dir_test.h"

namespace headscope {
namespace {

class PngFile : public test::TempDirTest {};

TEST_F(PngFile, ReadsBackTheSamePixelsAndLeavesNoTemporary) {
  QImage image(3, 2, QImage::Format_RGB32);
  for (int x = 0; x < 3; ++x) {
    for (int y = 0; y < 2; ++y) image.setPixel(x, y, qRgb(40 * x, 100 * y, 7));
  }
  const std::string png = path("grid.png");
  write_png(image, png);
  EXPECT_FALSE(std::filesystem::exists(png + ".partial"));
  const QImage back(QString::fromStdString(png));
  ASSERT_FALSE(back.isNull());
  EXPECT_EQ(back.convertToFormat(QImage::Format_RGB32), image);
}

TEST_F(PngFile, UnwritablePathIsAnIoErrorAndLeavesNothing) {
  QImage image(1, 1, QImage::Format_RGB32);
  image.fill(Qt::black);
  EXPECT_THROW(write_png(image, path("missing/dir/x.png")), IoError);
  EXPECT_TRUE(std::filesystem::is_empty(dir_));
}

TEST_F(PngFile, ADirectoryInTheWayIsAnIoErrorAndLeavesNoTemporary) {
  QImage image(1, 1, QImage::Format_RGB32);
  image.fill(Qt::black);
  std::filesystem::create_directories(path("taken.png/inside"));
  EXPECT_THROW(write_png(image, path("taken.png")), IoError);
  EXPECT_FALSE(std::filesystem::exists(path("taken.png.partial")));
}

}  // namespace
}  // namespace headscope
