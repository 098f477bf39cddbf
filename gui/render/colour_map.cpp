#include "gui/render/colour_map.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>

namespace headscope {

QColor heat_colour(double t) {
  static constexpr std::array<std::array<int, 3>, 5> kStops = {
      {{24, 28, 66}, {44, 92, 142}, {34, 146, 140}, {122, 198, 82}, {248, 228, 48}}};
  t = std::clamp(std::isfinite(t) ? t : 0.0, 0.0, 1.0) * (kStops.size() - 1);
  const auto i = std::min<size_t>(static_cast<size_t>(t), kStops.size() - 2);
  const double f = t - static_cast<double>(i);
  auto mix = [&](int c) {
    return static_cast<int>(std::lround(kStops[i][c] * (1 - f) + kStops[i + 1][c] * f));
  };
  return QColor(mix(0), mix(1), mix(2));
}

QColor diverging_colour(double t) {
  t = std::clamp(std::isfinite(t) ? t : 0.0, -1.0, 1.0);
  // Mixed linearly with white from these ends.
  static constexpr std::array<int, 3> kBlue = {40, 80, 200}, kRed = {200, 40, 40};
  const std::array<int, 3>& end = t < 0 ? kBlue : kRed;
  const double f = std::abs(t);
  auto mix = [&](int c) { return static_cast<int>(std::lround(255 * (1 - f) + end[c] * f)); };
  return QColor(mix(0), mix(1), mix(2));
}

}  // namespace headscope
