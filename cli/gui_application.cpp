#include "cli/gui_application.h"

#include <cstdio>

#include <QtGui/QGuiApplication>

namespace headscope::cli {
namespace {

// Qt's start-up notes (no XDG_RUNTIME_DIR on a server, ...) are not the user's business; real
// failures surface as exceptions from the drawing code.
void quiet_qt_messages(QtMsgType type, const QMessageLogContext&, const QString& message) {
  if (type == QtCriticalMsg || type == QtFatalMsg) {
    std::fprintf(stderr, "Qt: %s\n", message.toLocal8Bit().constData());
  }
}

}  // namespace

GuiApplication::GuiApplication() : previous_handler_(qInstallMessageHandler(quiet_qt_messages)) {
  if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
  app_ = std::make_unique<QGuiApplication>(argc_, argv_);
}

GuiApplication::~GuiApplication() {
  app_.reset();
  qInstallMessageHandler(previous_handler_);
}

}  // namespace headscope::cli
