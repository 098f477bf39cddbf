// Line charts and small multiples drawn into QImages: panels laid out in rows, each series'
// points where the chart's frame maps them, in the series' colour, and bad layouts refused.
#include <cmath>
#include <limits>

#include <gtest/gtest.h>
#include <QtGui/QImage>

#include "core/base/error.h"
#include "gui/render/line_chart_image.h"

namespace headscope {
namespace {

const QColor kBlue(40, 110, 170);
const QColor kOrange(230, 120, 30);

LineChart chart(double scale) {
  LineChart c;
  c.title = QStringLiteral("chart");
  c.x_label = QStringLiteral("block size");
  c.y_label = QStringLiteral("SNR");
  c.log_x = true;
  c.series.push_back({QStringLiteral("measured"), kBlue, {8, 16, 64}, {2 * scale, NAN, scale}});
  c.series.push_back(
      {QStringLiteral("theory"), kOrange, {8, 64}, {3 * scale, 0.5 * scale}, true, false});
  return c;
}

bool near_colour(QRgb pixel, const QColor& colour) {
  return std::abs(qRed(pixel) - colour.red()) < 24 &&
         std::abs(qGreen(pixel) - colour.green()) < 24 &&
         std::abs(qBlue(pixel) - colour.blue()) < 24;
}

TEST(LineChartImage, PanelsInRowsWithTheMarkersWhereTheFrameMapsThePoints) {
  const std::vector<LineChart> charts{chart(1), chart(2), chart(3)};
  const ChartPanelsOptions options =
      ChartPanelsOptions().with_columns(2).with_panel({320, 200}).with_title(QStringLiteral("t"));
  const QImage image = chart_panels_image(charts, options);
  ASSERT_EQ(image.width(), 2 * 320);
  const QRect last = chart_panel_rect(2, options);
  EXPECT_EQ(last.topLeft(), QPoint(0, chart_panel_rect(0, options).top() + 200));
  EXPECT_EQ(image.height(), last.bottom() + 1);
  EXPECT_GT(chart_panel_rect(0, options).top(), 0);  // the title's line

  for (size_t i = 0; i < charts.size(); ++i) {
    const QRect panel = chart_panel_rect(i, options);
    const LineChartFrame frame(charts[i], QRectF(panel));
    EXPECT_TRUE(QRectF(panel).contains(frame.area()));
    const ChartSeries& measured = charts[i].series[0];
    for (size_t p = 0; p < measured.x.size(); ++p) {
      if (!frame.shown(measured.x[p], measured.y[p])) continue;
      const QPoint at = frame.map(measured.x[p], measured.y[p]).toPoint();
      EXPECT_TRUE(near_colour(image.pixel(at), kBlue)) << "chart " << i << " point " << p;
    }
    // The theory curve's ends are its largest and smallest values: the frame's y range.
    EXPECT_NEAR(frame.map(8, 3.0 * (i + 1)).y() - frame.area().top(),
                frame.area().bottom() - frame.map(64, 0.5 * (i + 1)).y(), 1e-9);
    // Blank plot area away from every series: the bottom left corner, left of x = 8's tick.
    EXPECT_EQ(image.pixel((frame.area().bottomLeft() + QPointF(3, -3)).toPoint()),
              QColor(Qt::white).rgb());
  }
}

TEST(LineChartImage, NaNAndNonPositiveXOnALogAxisAreLeftOut) {
  LineChart c = chart(1);
  const LineChartFrame frame(c, QRectF(0, 0, 400, 260));
  EXPECT_FALSE(frame.shown(16, NAN));
  EXPECT_FALSE(frame.shown(0, 1));
  EXPECT_TRUE(frame.shown(16, 1));
  // log2 of the x range 8 .. 64, widened by 5% of it on each side.
  EXPECT_DOUBLE_EQ(frame.x_low(), 3.0 - 0.15);
  EXPECT_DOUBLE_EQ(frame.x_high(), 6.0 + 0.15);
}

TEST(LineChartImage, YSpanWidensTheAxisBeyondTheData) {
  LineChart c = chart(0.1);  // y from 0.05 to 0.3
  const LineChartFrame data(c, QRectF(0, 0, 400, 260));
  EXPECT_GT(data.y_low(), 0.0);
  c.y_span = {0.0, 1.0};
  const LineChartFrame spanned(c, QRectF(0, 0, 400, 260));
  EXPECT_LT(spanned.y_low(), 0.0);
  EXPECT_GT(spanned.y_high(), 1.0);
  // The same margin either side, up to the rounding of y_high near 1.05.
  EXPECT_NEAR(spanned.y_high() - 1.0, -spanned.y_low(), 4 * std::numeric_limits<double>::epsilon());
}

TEST(LineChartImage, RefusesNoChartsAndLayoutsWithoutRoom) {
  EXPECT_THROW(chart_panels_image({}, {}), InvalidInput);
  EXPECT_THROW(chart_panels_image({chart(1)}, ChartPanelsOptions().with_columns(0)), InvalidInput);
  EXPECT_THROW(chart_panels_image({chart(1)}, ChartPanelsOptions().with_panel({100, 80})),
               InvalidInput);
}

}  // namespace
}  // namespace headscope
