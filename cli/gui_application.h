// The program's QGuiApplication for commands that draw images: created where a command first
// draws (most commands never load Qt), on the offscreen platform unless QT_QPA_PLATFORM says
// otherwise, so no display is needed. The gui library draws only while one exists.
#pragma once

#include <memory>

#include <QtCore/QtGlobal>

class QGuiApplication;

namespace headscope::cli {

class GuiApplication {
 public:
  GuiApplication();
  ~GuiApplication();
  GuiApplication(const GuiApplication&) = delete;
  GuiApplication& operator=(const GuiApplication&) = delete;

 private:
  int argc_ = 1;
  char name_[10] = "headscope";
  char* argv_[2] = {name_, nullptr};
  QtMessageHandler previous_handler_;
  std::unique_ptr<QGuiApplication> app_;
};

}  // namespace headscope::cli
