#include "gui/views/token_canvas.h"

#include <algorithm>
#include <cmath>

#include <QtGui/QFontDatabase>
#include <QtGui/QMouseEvent>
#include <QtGui/QPainter>
#include <QtWidgets/QScrollBar>

namespace headscope::gui {
namespace {

// Longer tokens are cut (with an ellipsis) so that one token never fills a line.
constexpr int64_t kLongestToken = 24;
constexpr int kMargin = 6;

QString shown_text(const std::string& text) {
  QString s = QString::fromStdString(text);
  s.replace('\n', QChar(0x23CE)).replace('\t', QChar(0x2192));
  return s.size() > kLongestToken ? s.left(kLongestToken - 1) + QChar(0x2026) : s;
}

}  // namespace

TokenCanvas::TokenCanvas(QWidget* parent) : QAbstractScrollArea(parent) {
  QFont font = QFontDatabase::systemFont(QFontDatabase::FixedFont);
  font.setPixelSize(13);
  viewport()->setFont(font);
  const QFontMetrics metrics(font);
  char_width_ = std::max(1, metrics.horizontalAdvance(QLatin1Char('m')));
  line_height_ = metrics.height() + 4;
  setVerticalScrollBarPolicy(Qt::ScrollBarAlwaysOn);
}

void TokenCanvas::set_values(std::shared_ptr<const TokenValues> values) {
  values_ = std::move(values);
  high_ = 0;
  if (values_) {
    for (float v : values_->values) {
      if (std::isfinite(v)) high_ = std::max(high_, v);
    }
  }
  if (!(high_ > 0)) high_ = 1;
  relayout();
}

void TokenCanvas::set_marked(int64_t position) {
  marked_ = position;
  viewport()->update();
}

QColor TokenCanvas::colour(float value) const {
  if (!std::isfinite(value)) return QColor(220, 220, 220);
  // Square root, as the attention map: a query's few strong keys must not hide the rest.
  const double a = std::sqrt(std::clamp(static_cast<double>(value) / high_, 0.0, 1.0));
  return QColor::fromRgbF(static_cast<float>(1.0 - 0.1 * a), static_cast<float>(1.0 - 0.65 * a),
                          static_cast<float>(1.0 - 0.9 * a));
}

int64_t TokenCanvas::chars(int64_t position) const {
  const std::string& text = values_->text[static_cast<size_t>(position)];
  return std::min<int64_t>(static_cast<int64_t>(QString::fromStdString(text).size()),
                           kLongestToken) +
         1;
}

void TokenCanvas::relayout() {
  line_starts_.clear();
  if (values_ && !values_->values.empty()) {
    const int64_t width =
        std::max<int64_t>(kLongestToken + 1, (viewport()->width() - 2 * kMargin) / char_width_);
    int64_t used = 0;
    line_starts_.push_back(0);
    for (int64_t i = 0; i < static_cast<int64_t>(values_->values.size()); ++i) {
      const int64_t w = chars(i);
      if (used + w > width && used > 0) {
        line_starts_.push_back(i);
        used = 0;
      }
      used += w;
    }
  }
  const auto lines = static_cast<int>(line_starts_.size());
  verticalScrollBar()->setPageStep(viewport()->height());
  verticalScrollBar()->setSingleStep(line_height_);
  verticalScrollBar()->setRange(
      0, std::max(0, lines * line_height_ + 2 * kMargin - viewport()->height()));
  viewport()->update();
}

int64_t TokenCanvas::line_of(int64_t position) const {
  const auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), position);
  return static_cast<int64_t>(it - line_starts_.begin()) - 1;
}

QRect TokenCanvas::token_rect(int64_t position) const {
  const int64_t line = line_of(position);
  int64_t x = 0;
  for (int64_t i = line_starts_[static_cast<size_t>(line)]; i < position; ++i) x += chars(i);
  return QRect(kMargin + static_cast<int>(x) * char_width_,
               kMargin + static_cast<int>(line) * line_height_ - verticalScrollBar()->value(),
               static_cast<int>(chars(position) - 1) * char_width_, line_height_ - 2);
}

void TokenCanvas::scroll_to(int64_t position) {
  if (line_starts_.empty()) return;
  const int top = kMargin + static_cast<int>(line_of(position)) * line_height_;
  verticalScrollBar()->setValue(top - viewport()->height() / 3);
}

int64_t TokenCanvas::position_at(QPoint point) const {
  if (line_starts_.empty()) return -1;
  const int64_t line = (point.y() + verticalScrollBar()->value() - kMargin) / line_height_;
  if (line < 0 || line >= static_cast<int64_t>(line_starts_.size())) return -1;
  const int64_t end = line + 1 < static_cast<int64_t>(line_starts_.size())
                          ? line_starts_[static_cast<size_t>(line + 1)]
                          : static_cast<int64_t>(values_->values.size());
  int64_t x = kMargin;
  for (int64_t i = line_starts_[static_cast<size_t>(line)]; i < end; ++i) {
    x += chars(i) * char_width_;
    if (point.x() < x) return i;
  }
  return -1;
}

std::pair<int64_t, int64_t> TokenCanvas::visible_lines() const {
  if (line_starts_.empty()) return {0, 0};
  const int scroll = verticalScrollBar()->value();
  const auto lines = static_cast<int64_t>(line_starts_.size());
  const int64_t first = std::clamp<int64_t>((scroll - kMargin) / line_height_, 0, lines - 1);
  const int64_t last = std::clamp<int64_t>(
      (scroll + viewport()->height() - kMargin) / line_height_ + 1, first + 1, lines);
  return {first, last};
}

std::pair<int64_t, int64_t> TokenCanvas::visible_tokens() const {
  if (line_starts_.empty()) return {0, 0};
  const auto [first_line, last_line] = visible_lines();
  const auto lines = static_cast<int64_t>(line_starts_.size());
  return {line_starts_[static_cast<size_t>(first_line)],
          last_line < lines ? line_starts_[static_cast<size_t>(last_line)]
                            : static_cast<int64_t>(values_->values.size())};
}

void TokenCanvas::paintEvent(QPaintEvent*) {
  QPainter painter(viewport());
  painter.fillRect(viewport()->rect(), Qt::white);
  painted_ = visible_tokens();
  if (line_starts_.empty()) return;
  const int scroll = verticalScrollBar()->value();
  const auto lines = static_cast<int64_t>(line_starts_.size());
  const auto n = static_cast<int64_t>(values_->values.size());
  const auto [first_line, last_line] = visible_lines();
  for (int64_t line = first_line; line < last_line; ++line) {
    const int64_t begin = line_starts_[static_cast<size_t>(line)];
    const int64_t end = line + 1 < lines ? line_starts_[static_cast<size_t>(line + 1)] : n;
    const int y = kMargin + static_cast<int>(line) * line_height_ - scroll;
    int x = kMargin;
    for (int64_t i = begin; i < end; ++i) {
      const int w = static_cast<int>(chars(i)) * char_width_;
      const QRect box(x, y, w - char_width_, line_height_ - 2);
      painter.fillRect(box, colour(values_->values[static_cast<size_t>(i)]));
      if (i == marked_) {
        painter.setPen(QPen(QColor(0, 120, 220), 2));
        painter.drawRect(box.adjusted(0, 0, -1, -1));
      }
      painter.setPen(Qt::black);
      painter.drawText(box, Qt::AlignLeft | Qt::AlignVCenter,
                       shown_text(values_->text[static_cast<size_t>(i)]));
      x += w;
    }
  }
}

void TokenCanvas::resizeEvent(QResizeEvent* event) {
  QAbstractScrollArea::resizeEvent(event);
  // New line breaks move every token: keep the query (else the first token in view) in view.
  const int64_t anchor = marked_ >= 0 ? marked_ : visible_tokens().first;
  relayout();
  if (!line_starts_.empty()) scroll_to(anchor);
}

void TokenCanvas::mousePressEvent(QMouseEvent* event) {
  const int64_t position = position_at(event->position().toPoint());
  if (position >= 0 && on_pick_) on_pick_(position);
}

}  // namespace headscope::gui
