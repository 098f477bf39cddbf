#include "gui/views/view_export.h"

#include <QtCore/QFile>
#include <QtCore/QFileInfo>
#include <QtGui/QPainter>
#include <QtSvg/QSvgGenerator>

#include "core/base/error.h"
#include "gui/render/png_file.h"
#include "gui/render/whole_file.h"

namespace headscope::gui {

void export_view(QWidget& widget, const QString& csv, const std::string& path) {
  const QString suffix = QFileInfo(QString::fromStdString(path)).suffix().toLower();
  if (suffix == "png") {
    write_png(widget.grab().toImage(), path);
  } else if (suffix == "svg") {
    write_whole_file(path, "SVG image", [&widget](const std::string& partial) {
      QSvgGenerator svg;
      svg.setFileName(QString::fromStdString(partial));
      svg.setSize(widget.size());
      svg.setViewBox(QRect(QPoint(0, 0), widget.size()));
      svg.setTitle(widget.windowTitle());
      QPainter painter;
      if (!painter.begin(&svg)) return false;
      widget.render(&painter);
      return painter.end();
    });
  } else if (suffix == "csv") {
    if (csv.isEmpty()) {
      throw InvalidInput(path + ": this view shows no data to write as CSV (write .png or .svg)");
    }
    write_whole_file(path, "CSV file", [&csv](const std::string& partial) {
      QFile file(QString::fromStdString(partial));
      const QByteArray bytes = csv.toUtf8();
      return file.open(QIODevice::WriteOnly | QIODevice::Truncate) &&
             file.write(bytes) == bytes.size() && file.flush();
    });
  } else {
    throw InvalidInput(path + ": cannot tell what to write; the file name must end in " +
                       kExportFormats);
  }
}

}  // namespace headscope::gui
