// The layer x head heatmap: drawn into the caller's image, colours ordered by value, and no
// application state touched (the program owns the QGuiApplication and the message handler).
#include <cmath>

#include <gtest/gtest.h>
#include <QtGui/QGuiApplication>
#include <QtGui/QImage>

#include "core/base/error.h"
#include "gui/render/head_grid_image.h"

namespace headscope {
namespace {

// Perceived brightness: the colour map rises monotonically from dark to light.
double brightness(QRgb c) {
  return 0.299 * qRed(c) + 0.587 * qGreen(c) + 0.114 * qBlue(c);
}

QImage drawn(const HeadGrid& grid, const HeadGridImageOptions& options) {
  QImage image(head_grid_image_size(grid, options), QImage::Format_RGB32);
  draw_head_grid(grid, image, options);
  return image;
}

// Margins: 70 left, 56 top (see head_grid_image.cpp); samples a cell's centre.
QRgb cell_centre(const QImage& image, int cell, int layer, int head) {
  return image.pixel(70 + head * cell + cell / 2, 56 + layer * cell + cell / 2);
}

TEST(HeadGridImage, DrawsOneCellPerHeadWithValueOrderedColours) {
  const HeadGrid grid{"test", "mass", {{0.0, 0.5}, {1.0, NAN}}};
  const int cell = 40;
  const QImage image = drawn(grid, HeadGridImageOptions().with_cell(cell).with_annotate(false));
  EXPECT_LT(brightness(cell_centre(image, cell, 0, 0)), brightness(cell_centre(image, cell, 0, 1)));
  EXPECT_LT(brightness(cell_centre(image, cell, 0, 1)), brightness(cell_centre(image, cell, 1, 0)));
  EXPECT_GT(image.width(), 70 + 2 * cell);
  EXPECT_GT(image.height(), 56 + 2 * cell);
}

TEST(HeadGridImage, FixedRangeClampsValues) {
  const HeadGrid grid{"clamped", "", {{-5.0, 0.0, 1.0, 7.0}}};
  const QImage image =
      drawn(grid, HeadGridImageOptions().with_range(0.0, 1.0).with_annotate(false));
  const int cell = HeadGridImageOptions().cell;
  EXPECT_EQ(cell_centre(image, cell, 0, 0), cell_centre(image, cell, 0, 1));  // below: low end
  EXPECT_EQ(cell_centre(image, cell, 0, 2), cell_centre(image, cell, 0, 3));  // above: high end
}

TEST(HeadGridImage, SizeGrowsWithCellsAndCoversTheWholeImage) {
  const HeadGrid grid{"size", "", {{0.0, 1.0, 2.0}, {3.0, 4.0, 5.0}}};
  const QSize small = head_grid_image_size(grid, HeadGridImageOptions().with_cell(10));
  const QSize large = head_grid_image_size(grid, HeadGridImageOptions().with_cell(30));
  EXPECT_EQ(large.width() - small.width(), 3 * 20);
  EXPECT_EQ(large.height() - small.height(), 2 * 20);
  // Every pixel is drawn: whatever the caller's image held before is gone.
  QImage image(small, QImage::Format_RGB32);
  image.fill(Qt::red);
  draw_head_grid(grid, image, HeadGridImageOptions().with_cell(10));
  for (int x = 0; x < image.width(); ++x) {
    for (int y = 0; y < image.height(); ++y) ASSERT_NE(image.pixel(x, y), QColor(Qt::red).rgb());
  }
}

TEST(HeadGridImage, RejectsEmptyAndRaggedGrids) {
  QImage image(10, 10, QImage::Format_RGB32);
  EXPECT_THROW(head_grid_image_size(HeadGrid{"empty", "", {}}), InvalidInput);
  EXPECT_THROW(draw_head_grid(HeadGrid{"empty", "", {{}}}, image), InvalidInput);
  EXPECT_THROW(head_grid_image_size(HeadGrid{"ragged", "", {{1.0, 2.0}, {3.0}}}), InvalidInput);
  EXPECT_THROW(draw_head_grid(HeadGrid{"ragged", "", {{1.0, 2.0}, {3.0}}}, image), InvalidInput);
}

TEST(HeadGridImage, LabelsOtherMatricesAndWidensTheSideToFitThem) {
  const HeadGrid grid{"jaccard", "", {{1.0, 0.5}, {0.5, 1.0}}};
  const HeadGridImageOptions plain;
  const HeadGridImageOptions labelled = HeadGridImageOptions().with_labels(
      {"a_rather_long_circuit_name", "b"}, {"a_rather_long_circuit_name", "b"}, "circuit");
  EXPECT_GT(head_grid_image_size(grid, labelled).width(),
            head_grid_image_size(grid, plain).width());
  EXPECT_EQ(head_grid_image_size(grid, labelled).height(),
            head_grid_image_size(grid, plain).height());
  // Label text is drawn left of the cells: the side holds dark pixels.
  const QImage image = drawn(grid, labelled);
  bool dark = false;
  for (int x = 0; x < image.width() - 2 * labelled.cell - 90 && !dark; ++x) {
    for (int y = 56; y < 56 + labelled.cell && !dark; ++y)
      dark = brightness(image.pixel(x, y)) < 100;
  }
  EXPECT_TRUE(dark);
  EXPECT_THROW(head_grid_image_size(grid, HeadGridImageOptions().with_labels({"a"}, {}, "")),
               InvalidInput);
}

// The library draws with the program's application and leaves Qt's global message handler
// alone, so an explorer's QApplication and its handler keep working around it.
void sentinel_handler(QtMsgType, const QMessageLogContext&, const QString&) {}

TEST(HeadGridImage, LeavesTheApplicationAndMessageHandlerToTheProgram) {
  const QCoreApplication* app = QCoreApplication::instance();
  ASSERT_NE(app, nullptr);
  const QtMessageHandler programs = qInstallMessageHandler(sentinel_handler);
  drawn(HeadGrid{"state", "", {{1.0, 2.0}}}, {});
  const QtMessageHandler after = qInstallMessageHandler(programs);
  EXPECT_EQ(after, &sentinel_handler);
  EXPECT_EQ(QCoreApplication::instance(), app);
}

// The explorer's grid takes clicks through these: every cell's rectangle maps back to the cell,
// with labels that widen the left margin too, and points off the cells to none.
TEST(HeadGridImage, CellRectanglesAndHitsAgree) {
  const HeadGrid grid{"hits", "", {{0.0, 1.0, 2.0}, {3.0, 4.0, 5.0}}};
  for (const HeadGridImageOptions& options :
       {HeadGridImageOptions().with_cell(20),
        HeadGridImageOptions().with_labels({"a very long row label", "b"}, {"x", "y", "z"}, "t")}) {
    const QSize size = head_grid_image_size(grid, options);
    for (int layer = 0; layer < 2; ++layer) {
      for (int head = 0; head < 3; ++head) {
        const QRect box = head_grid_cell_rect(grid, options, layer, head);
        EXPECT_EQ(box.size(), QSize(options.cell, options.cell));
        EXPECT_TRUE(QRect(QPoint(0, 0), size).contains(box));
        for (const QPoint corner : {box.topLeft(), box.bottomRight(), box.center()}) {
          EXPECT_EQ(head_grid_cell_at(grid, options, corner), (HeadCell{layer, head}));
        }
      }
    }
    const QRect last = head_grid_cell_rect(grid, options, 1, 2);
    EXPECT_EQ(head_grid_cell_at(grid, options, last.bottomRight() + QPoint(1, 0)), std::nullopt);
    EXPECT_EQ(head_grid_cell_at(grid, options, last.bottomRight() + QPoint(0, 1)), std::nullopt);
    EXPECT_EQ(head_grid_cell_at(grid, options, QPoint(0, 0)), std::nullopt);
  }
}

}  // namespace
}  // namespace headscope
