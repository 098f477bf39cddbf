// A layer x head heatmap of one per-head number (an attention statistic, a retrieval score),
// drawn with Qt's raster painter into a QImage the caller owns. This library creates no
// application and installs no handlers: text needs fonts, so the program must own a
// QGuiApplication (or QApplication) before drawing; off a display, QT_QPA_PLATFORM=offscreen.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <QtCore/QPoint>
#include <QtCore/QRect>
#include <QtCore/QSize>
#include <QtGui/QImage>

namespace headscope {

struct HeadGrid {
  std::string title;                       // e.g. "attention mass on the needle's value"
  std::string unit;                        // colour bar label, e.g. "mass", "nats"
  std::vector<std::vector<double>> value;  // [layer][head]; NaN draws as a hatched cell
};

struct HeadGridImageOptions {
  int cell = 56;                    // pixels per cell
  std::optional<double> low, high;  // colour scale ends; unset: the grid's min and max
  bool annotate = true;             // print each cell's value
  // Axis labels of other matrices (circuits x circuits). Empty: "layer 0", "layer 1", ... down
  // the side and head numbers across, with column_title under the cells. Labels wider than a
  // cell are shortened with an ellipsis across the top; the side widens to fit its labels.
  std::vector<std::string> row_labels;
  std::vector<std::string> column_labels;
  std::string column_title = "head";

  HeadGridImageOptions& with_cell(int v) { return cell = v, *this; }
  HeadGridImageOptions& with_labels(std::vector<std::string> rows, std::vector<std::string> columns,
                                    std::string title) {
    row_labels = std::move(rows), column_labels = std::move(columns);
    return column_title = std::move(title), *this;
  }
  HeadGridImageOptions& with_range(double lo, double hi) { return low = lo, high = hi, *this; }
  HeadGridImageOptions& with_annotate(bool v) { return annotate = v, *this; }
};

// The size of the image draw_head_grid fills. Throws InvalidInput for an empty or ragged grid,
// or labels that are not one per row or column.
QSize head_grid_image_size(const HeadGrid& grid, const HeadGridImageOptions& options = {});

// One cell of a grid: row (layer) and column (head).
struct HeadCell {
  int layer = 0;
  int head = 0;
  bool operator==(const HeadCell& o) const { return layer == o.layer && head == o.head; }
};

// Where draw_head_grid puts a cell, and the cell under a point of the image (nullopt off the
// cells), for views that draw a grid and take clicks on it. Throw as head_grid_image_size.
QRect head_grid_cell_rect(const HeadGrid& grid, const HeadGridImageOptions& options, int layer,
                          int head);
std::optional<HeadCell> head_grid_cell_at(const HeadGrid& grid, const HeadGridImageOptions& options,
                                          QPoint point);

// Draws `grid` over the whole of `image`, whose size must be head_grid_image_size's (e.g.
// QImage(head_grid_image_size(grid, options), QImage::Format_RGB32)). Throws InvalidInput for
// an empty or ragged grid.
void draw_head_grid(const HeadGrid& grid, QImage& image, const HeadGridImageOptions& options = {});

}  // namespace headscope
