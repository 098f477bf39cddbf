#include "gui/render/png_file.h"

#include <filesystem>

#include <QtCore/QString>

#include "core/base/error.h"

namespace headscope {

void write_png(const QImage& image, const std::string& path) {
  const std::string partial = path + ".partial";
  if (!image.save(QString::fromStdString(partial), "PNG")) {
    std::error_code ignored;
    std::filesystem::remove(partial, ignored);
    throw IoError(path + ": could not write the PNG image");
  }
  std::error_code error;
  std::filesystem::rename(partial, path, error);
  if (error) {
    std::error_code ignored;
    std::filesystem::remove(partial, ignored);
    throw IoError(path + ": " + error.message());
  }
}

}  // namespace headscope
