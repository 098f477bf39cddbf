// A layer x head heatmap of one per-head number (an attention statistic, a retrieval score),
// drawn with Qt's raster painter into a PNG. No display is needed: Qt runs on its offscreen
// platform when no application exists yet.
#pragma once

#include <optional>
#include <string>
#include <vector>

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

  HeadGridImageOptions& with_cell(int v) { return cell = v, *this; }
  HeadGridImageOptions& with_range(double lo, double hi) { return low = lo, high = hi, *this; }
  HeadGridImageOptions& with_annotate(bool v) { return annotate = v, *this; }
};

// Writes `path` (PNG) atomically: a temporary file renamed on success. Throws InvalidInput for
// an empty or ragged grid and IoError when the file cannot be written.
void write_head_grid_png(const HeadGrid& grid, const std::string& path,
                         const HeadGridImageOptions& options = {});

}  // namespace headscope
