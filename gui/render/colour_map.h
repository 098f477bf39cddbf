// The one colour scale of every heatmap headscope draws (PNG grids, the explorer's views), so a
// value looks the same wherever it is shown.
#pragma once

#include <QtGui/QColor>

namespace headscope {

// Dark blue through teal and green to yellow for t in [0, 1] (clamped): monotone in lightness,
// readable in grey and by the common colour-vision deficiencies.
QColor heat_colour(double t);

// For signed values (a difference A - B), t in [-1, 1] (clamped): blue for negative, white at
// 0, red for positive, both sides equally far from white at equal |t| (the circuit graph's
// edges are coloured by it too).
QColor diverging_colour(double t);

}  // namespace headscope
