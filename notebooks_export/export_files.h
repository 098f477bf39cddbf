// Names of the files in an export directory; the README and the notebook refer to each other
// and to the recording by these names.
#pragma once

namespace headscope {

inline constexpr char kExportRecording[] = "recording.h5";
inline constexpr char kExportReadme[] = "README.md";
inline constexpr char kExportNotebook[] = "explore.ipynb";
// Figures the notebook saves next to the recording.
inline constexpr char kPatternFigure[] = "pattern.png";
inline constexpr char kEntropyFigure[] = "entropy_grid.png";

}  // namespace headscope
