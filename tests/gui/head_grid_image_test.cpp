// The layer x head PNG: drawn offscreen, read back with Qt, colours ordered by value.
#include <cmath>
#include <filesystem>

#include <gtest/gtest.h>
#include <QtGui/QImage>

#include "core/base/error.h"
#include "gui/head_grid_image.h"
#include "tests/support/temp_dir_test.h"

namespace headscope {
namespace {

class HeadGridImage : public test::TempDirTest {};

// Perceived brightness: the colour map rises monotonically from dark to light.
double brightness(QRgb c) {
  return 0.299 * qRed(c) + 0.587 * qGreen(c) + 0.114 * qBlue(c);
}

TEST_F(HeadGridImage, DrawsOneCellPerHeadWithValueOrderedColours) {
  const HeadGrid grid{"test", "mass", {{0.0, 0.5}, {1.0, NAN}}};
  const std::string png = path("grid.png");
  const int cell = 40;
  write_head_grid_png(grid, png, HeadGridImageOptions().with_cell(cell).with_annotate(false));
  ASSERT_TRUE(std::filesystem::exists(png));
  EXPECT_FALSE(std::filesystem::exists(png + ".partial"));

  const QImage image(QString::fromStdString(png));
  ASSERT_FALSE(image.isNull());
  // Margins: 70 left, 56 top (see head_grid_image.cpp); sample each cell's centre.
  auto at = [&](int layer, int head) {
    return image.pixel(70 + head * cell + cell / 2, 56 + layer * cell + cell / 2);
  };
  EXPECT_LT(brightness(at(0, 0)), brightness(at(0, 1)));
  EXPECT_LT(brightness(at(0, 1)), brightness(at(1, 0)));
  EXPECT_GT(image.width(), 70 + 2 * cell);
  EXPECT_GT(image.height(), 56 + 2 * cell);
}

TEST_F(HeadGridImage, FixedRangeClampsValues) {
  const HeadGrid grid{"clamped", "", {{-5.0, 0.0, 1.0, 7.0}}};
  const std::string png = path("clamped.png");
  write_head_grid_png(grid, png, HeadGridImageOptions().with_range(0.0, 1.0).with_annotate(false));
  const QImage image(QString::fromStdString(png));
  const int cell = HeadGridImageOptions().cell;
  auto at = [&](int head) { return image.pixel(70 + head * cell + cell / 2, 56 + cell / 2); };
  EXPECT_EQ(at(0), at(1));  // below the range: the low end
  EXPECT_EQ(at(2), at(3));  // above: the high end
}

TEST_F(HeadGridImage, RejectsEmptyAndRaggedGrids) {
  EXPECT_THROW(write_head_grid_png(HeadGrid{"empty", "", {}}, path("a.png")), InvalidInput);
  EXPECT_THROW(write_head_grid_png(HeadGrid{"ragged", "", {{1.0, 2.0}, {3.0}}}, path("b.png")),
               InvalidInput);
  EXPECT_FALSE(std::filesystem::exists(path("b.png")));
}

TEST_F(HeadGridImage, UnwritablePathIsAnIoError) {
  EXPECT_THROW(write_head_grid_png(HeadGrid{"x", "", {{1.0}}}, path("missing/dir/x.png")), IoError);
}

}  // namespace
}  // namespace headscope
