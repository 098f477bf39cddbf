// Writing what a view shows to a file, chosen by the file's extension: .png (the widget as
// drawn), .svg (the widget drawn into Qt SVG's generator: vector shapes and text) or .csv (the
// view's data slice, ExplorerView::csv). Whole or nothing (gui/render/whole_file.h).
#pragma once

#include <string>

#include <QtCore/QString>
#include <QtWidgets/QWidget>

namespace headscope::gui {

// The extensions export_view writes, for messages and file dialogs.
inline constexpr char kExportFormats[] = ".png, .svg or .csv";

// InvalidInput naming `path` for another extension, or for .csv when `csv` is empty (a view
// with nothing shown, or the file panel); IoError when the file cannot be written.
void export_view(QWidget& widget, const QString& csv, const std::string& path);

}  // namespace headscope::gui
