// The run's text as a flow of tokens, each on a background coloured by its value, scrolled
// virtually: token widths come from their lengths in a monospace font, so line breaks are one
// pass of integer sums, and a paint lays out and draws only the lines in view (128K tokens
// scroll as smoothly as 100). A click picks a token.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include <QtGui/QColor>
#include <QtWidgets/QAbstractScrollArea>

#include "gui/models/token_values.h"

namespace headscope::gui {

class TokenCanvas : public QAbstractScrollArea {
 public:
  explicit TokenCanvas(QWidget* parent = nullptr);

  // Null shows nothing.
  void set_values(std::shared_ptr<const TokenValues> values);
  const std::shared_ptr<const TokenValues>& values() const { return values_; }
  // Outlined; -1: none.
  void set_marked(int64_t position);
  void on_pick(std::function<void(int64_t)> handler) { on_pick_ = std::move(handler); }
  // Scrolls so that the token's line is in view.
  void scroll_to(int64_t position);

  // The background of a token with this value (white at 0, the strongest colour at the
  // largest value shown).
  QColor colour(float value) const;
  // A token's rectangle in viewport coordinates (whether in view or not).
  QRect token_rect(int64_t position) const;
  // Tokens [first, last) on the lines in view, and those the last paint laid out and drew.
  std::pair<int64_t, int64_t> visible_tokens() const;
  std::pair<int64_t, int64_t> painted() const { return painted_; }

 protected:
  void paintEvent(QPaintEvent* event) override;
  void resizeEvent(QResizeEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;

 private:
  void relayout();
  int64_t chars(int64_t position) const;  // the token's width in characters, its space included
  int64_t line_of(int64_t position) const;
  std::pair<int64_t, int64_t> visible_lines() const;
  int64_t position_at(QPoint point) const;

  std::shared_ptr<const TokenValues> values_;
  float high_ = 1;
  std::vector<int64_t> line_starts_;  // the first token of each line
  int char_width_ = 8;
  int line_height_ = 16;
  int64_t marked_ = -1;
  std::pair<int64_t, int64_t> painted_{0, 0};
  std::function<void(int64_t)> on_pick_;
};

}  // namespace headscope::gui
