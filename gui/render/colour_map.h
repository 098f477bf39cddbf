// The one colour scale of every heatmap headscope draws (PNG grids, the explorer's views), so a
// value looks the same wherever it is shown.
#pragma once

#include <QtGui/QColor>

namespace headscope {

// Dark blue through teal and green to yellow for t in [0, 1] (clamped): monotone in lightness,
// readable in grey and by the common colour-vision deficiencies.
QColor heat_colour(double t);

}  // namespace headscope
