// What the compare views choose A and B from: two combo boxes of the same labels in a row
// ("A: [...]  B: [...]"). A user's change calls the handler; the view's own changes (adding
// labels, setting both) do not.
#pragma once

#include <functional>

#include <QtCore/QString>
#include <QtCore/QStringList>
#include <QtWidgets/QWidget>

class QComboBox;

namespace headscope::gui {

class AbChoice : public QWidget {
 public:
  explicit AbChoice(QWidget* parent = nullptr);

  void on_change(std::function<void()> handler) { on_change_ = std::move(handler); }
  // Appends a label to both lists.
  void add(const QString& label);
  QStringList labels() const;
  int a() const;  // the chosen indices; -1 while there are no labels
  int b() const;
  QString a_text() const;
  QString b_text() const;
  void set(int a, int b);
  // By label; false, changing nothing, when either is absent.
  bool set(const QString& a, const QString& b);

 private:
  QComboBox* a_;
  QComboBox* b_;
  std::function<void()> on_change_;
};

}  // namespace headscope::gui
