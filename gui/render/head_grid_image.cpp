#include "gui/render/head_grid_image.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include <QtGui/QColor>
#include <QtGui/QFont>
#include <QtGui/QFontMetrics>
#include <QtGui/QGuiApplication>
#include <QtGui/QPainter>

#include "core/base/error.h"
#include "gui/render/colour_map.h"

namespace headscope {
namespace {

QString number(double v) {
  char text[32];
  std::snprintf(text, sizeof text, std::abs(v) >= 100 ? "%.0f" : "%.2f", v);
  return QString::fromLatin1(text);
}

// Margins around the cells: title and head numbers above, layer names left, colour bar right.
constexpr int kLeft = 70, kTop = 56, kRight = 90, kBottom = 40;
// An upper bound on the mean advance of DejaVu Sans at 13 pixels, for sizing the left margin
// before any font is loaded (the size needs no application).
constexpr int kLabelCharWidth = 8;

int left_margin(const HeadGridImageOptions& options) {
  size_t longest = 0;
  for (const std::string& label : options.row_labels) longest = std::max(longest, label.size());
  return std::max(kLeft, 16 + kLabelCharWidth * static_cast<int>(longest));
}

// The grid's layer and head counts; throws for a grid with nothing to draw or labels that do not
// fit it.
QSize grid_shape(const HeadGrid& grid, const HeadGridImageOptions& options) {
  if (grid.value.empty() || grid.value[0].empty()) {
    throw InvalidInput("head grid '" + grid.title + "': no layers or no heads to draw");
  }
  const auto heads = grid.value[0].size();
  for (const auto& row : grid.value) {
    if (row.size() != heads) {
      throw InvalidInput("head grid '" + grid.title + "': layers have different head counts");
    }
  }
  if ((!options.row_labels.empty() && options.row_labels.size() != grid.value.size()) ||
      (!options.column_labels.empty() && options.column_labels.size() != heads)) {
    throw InvalidInput("head grid '" + grid.title + "': " +
                       std::to_string(options.row_labels.size()) + " row and " +
                       std::to_string(options.column_labels.size()) + " column labels for " +
                       std::to_string(grid.value.size()) + " x " + std::to_string(heads) +
                       " cells");
  }
  return QSize(static_cast<int>(heads), static_cast<int>(grid.value.size()));
}

}  // namespace

QSize head_grid_image_size(const HeadGrid& grid, const HeadGridImageOptions& options) {
  const QSize shape = grid_shape(grid, options);
  return QSize(left_margin(options) + shape.width() * options.cell + kRight,
               kTop + shape.height() * options.cell + kBottom);
}

QRect head_grid_cell_rect(const HeadGrid& grid, const HeadGridImageOptions& options, int layer,
                          int head) {
  grid_shape(grid, options);
  return QRect(left_margin(options) + head * options.cell, kTop + layer * options.cell,
               options.cell, options.cell);
}

std::optional<HeadCell> head_grid_cell_at(const HeadGrid& grid, const HeadGridImageOptions& options,
                                          QPoint point) {
  const QSize shape = grid_shape(grid, options);
  const int x = point.x() - left_margin(options), y = point.y() - kTop;
  if (x < 0 || y < 0) return std::nullopt;
  const HeadCell cell{y / options.cell, x / options.cell};
  if (cell.layer >= shape.height() || cell.head >= shape.width()) return std::nullopt;
  return cell;
}

void draw_head_grid(const HeadGrid& grid, QImage& image, const HeadGridImageOptions& options) {
  const QSize shape = grid_shape(grid, options);
  HS_ASSERT(image.size() == head_grid_image_size(grid, options));
  // Text needs the program's application (fonts); this library never creates one.
  HS_ASSERT(qobject_cast<QGuiApplication*>(QCoreApplication::instance()) != nullptr);
  const int layers = shape.height(), heads = shape.width();
  double low = INFINITY, high = -INFINITY;
  for (const auto& row : grid.value) {
    for (double v : row) {
      if (std::isfinite(v)) low = std::min(low, v), high = std::max(high, v);
    }
  }
  low = options.low.value_or(std::isfinite(low) ? low : 0.0);
  high = options.high.value_or(std::isfinite(high) ? high : 1.0);
  if (!(high > low)) high = low + 1.0;

  const int cell = options.cell, left = left_margin(options), top = kTop, bar = 18;
  image.fill(Qt::white);
  QPainter painter(&image);
  painter.setRenderHint(QPainter::Antialiasing);
  QFont font("DejaVu Sans");
  font.setPixelSize(13);
  painter.setFont(font);

  painter.setPen(Qt::black);
  painter.drawText(QRect(0, 8, image.width(), 22), Qt::AlignCenter,
                   QString::fromStdString(grid.title));
  const QFontMetrics metrics(font);
  for (int h = 0; h < heads; ++h) {
    const QString label =
        options.column_labels.empty()
            ? QString::number(h)
            : metrics.elidedText(QString::fromStdString(options.column_labels[h]), Qt::ElideRight,
                                 cell - 4);
    painter.drawText(QRect(left + h * cell, top - 22, cell, 20), Qt::AlignCenter, label);
  }
  painter.drawText(QRect(left, top + layers * cell + 8, heads * cell, 20), Qt::AlignCenter,
                   QString::fromStdString(options.column_title));
  for (int l = 0; l < layers; ++l) {
    const QString label = options.row_labels.empty()
                              ? "layer " + QString::number(l)
                              : QString::fromStdString(options.row_labels[l]);
    painter.drawText(QRect(0, top + l * cell, left - 8, cell), Qt::AlignRight | Qt::AlignVCenter,
                     label);
  }

  for (int l = 0; l < layers; ++l) {
    for (int h = 0; h < heads; ++h) {
      const double v = grid.value[static_cast<size_t>(l)][static_cast<size_t>(h)];
      const QRect box(left + h * cell, top + l * cell, cell, cell);
      if (!std::isfinite(v)) {
        painter.fillRect(box, QBrush(Qt::lightGray, Qt::BDiagPattern));
        continue;
      }
      const double t = (v - low) / (high - low);
      painter.fillRect(box, heat_colour(t));
      if (options.annotate) {
        painter.setPen(t > 0.6 ? Qt::black : Qt::white);
        painter.drawText(box, Qt::AlignCenter, number(v));
      }
    }
  }

  // Colour bar with its ends and the unit.
  const int bar_x = left + heads * cell + 24, bar_h = layers * cell;
  for (int y = 0; y < bar_h; ++y) {
    painter.setPen(heat_colour(1.0 - static_cast<double>(y) / std::max(1, bar_h - 1)));
    painter.drawLine(bar_x, top + y, bar_x + bar, top + y);
  }
  painter.setPen(Qt::black);
  painter.drawText(QRect(bar_x + bar + 4, top - 8, 60, 16), Qt::AlignLeft, number(high));
  painter.drawText(QRect(bar_x + bar + 4, top + bar_h - 8, 60, 16), Qt::AlignLeft, number(low));
  painter.drawText(QRect(bar_x - 20, top + bar_h + 8, 80, 20), Qt::AlignCenter,
                   QString::fromStdString(grid.unit));
  painter.end();
}

}  // namespace headscope
