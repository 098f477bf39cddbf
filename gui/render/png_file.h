// PNG files that appear whole or not at all.
#pragma once

#include <string>

#include <QtGui/QImage>

namespace headscope {

// Writes `image` to `path` as PNG through a temporary file beside it, renamed on success; on
// failure nothing is left. Throws IoError when the file cannot be written.
void write_png(const QImage& image, const std::string& path);

}  // namespace headscope
