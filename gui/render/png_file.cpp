#include "gui/render/png_file.h"

#include <QtCore/QString>

#include "gui/render/whole_file.h"

namespace headscope {

void write_png(const QImage& image, const std::string& path) {
  write_whole_file(path, "PNG image", [&image](const std::string& partial) {
    return image.save(QString::fromStdString(partial), "PNG");
  });
}

}  // namespace headscope
