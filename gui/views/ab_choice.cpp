#include "gui/views/ab_choice.h"

#include <QtWidgets/QComboBox>
#include <QtWidgets/QHBoxLayout>
#include <QtWidgets/QLabel>

namespace headscope::gui {

AbChoice::AbChoice(QWidget* parent)
    : QWidget(parent), a_(new QComboBox(this)), b_(new QComboBox(this)) {
  auto* row = new QHBoxLayout(this);
  row->setContentsMargins(0, 0, 0, 0);
  row->addWidget(new QLabel(tr("A:"), this));
  row->addWidget(a_, 1);
  row->addWidget(new QLabel(tr("B:"), this));
  row->addWidget(b_, 1);
  for (QComboBox* combo : {a_, b_}) {
    connect(combo, qOverload<int>(&QComboBox::currentIndexChanged), this, [this](int) {
      if (on_change_) on_change_();
    });
  }
}

void AbChoice::add(const QString& label) {
  const QSignalBlocker block_a(a_), block_b(b_);
  a_->addItem(label);
  b_->addItem(label);
}

QStringList AbChoice::labels() const {
  QStringList out;
  for (int i = 0; i < a_->count(); ++i) out << a_->itemText(i);
  return out;
}

int AbChoice::a() const {
  return a_->currentIndex();
}

int AbChoice::b() const {
  return b_->currentIndex();
}

QString AbChoice::a_text() const {
  return a_->currentText();
}

QString AbChoice::b_text() const {
  return b_->currentText();
}

void AbChoice::set(int a, int b) {
  const QSignalBlocker block_a(a_), block_b(b_);
  a_->setCurrentIndex(a);
  b_->setCurrentIndex(b);
}

bool AbChoice::set(const QString& a, const QString& b) {
  const int ia = a_->findText(a), ib = b_->findText(b);
  if (ia < 0 || ib < 0) return false;
  set(ia, ib);
  return true;
}

}  // namespace headscope::gui
