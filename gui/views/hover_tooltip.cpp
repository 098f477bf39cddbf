#include "gui/views/hover_tooltip.h"

#include <QtGui/QHelpEvent>
#include <QtWidgets/QToolTip>

namespace headscope::gui {

bool answer_tooltip(QWidget& widget, QEvent* event, const std::function<QString(QPoint)>& text_at) {
  if (event->type() != QEvent::ToolTip) return false;
  auto* help = static_cast<QHelpEvent*>(event);
  const QString text = text_at(help->pos());
  if (text.isEmpty()) {
    QToolTip::hideText();
  } else {
    QToolTip::showText(help->globalPos(), text, &widget);
  }
  return true;
}

}  // namespace headscope::gui
