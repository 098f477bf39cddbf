// The hover text of the explorer's canvases: each says what lies under the pointer
// (tooltip_at), and this shows it as Qt's tooltip, or hides the tooltip off the drawn values.
#pragma once

#include <functional>

#include <QtCore/QEvent>
#include <QtCore/QString>
#include <QtWidgets/QWidget>

namespace headscope::gui {

// For a widget's event(): true (handled) when `event` is a tooltip request, answered with
// `text_at` of the pointer's position.
bool answer_tooltip(QWidget& widget, QEvent* event, const std::function<QString(QPoint)>& text_at);

}  // namespace headscope::gui
